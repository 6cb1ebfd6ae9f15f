import type { RunLog } from "../runtime/mod.ts";
import type { OutcomeEvidence } from "./types.ts";
import { shownValue } from "../runtime/mod.ts";

/**
 * The outcome facts of a finished episode as the run recorded them: the expected answer (from the task)
 * and the answer the pipeline gave (the output the spec's outcome grader reads). `correct`, `success` and
 * `metrics` stay empty until a grader has scored the episode; the summary says so, so a judge is never
 * shown a blank where a grade would be. Undefined while the episode has not finished.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * import { outcomeFromLog } from "./outcome_evidence.ts";
 * const run = new FixtureRun();
 * assert.equal(outcomeFromLog(run.log, "eval:missing"), undefined);
 * ```
 */
export function outcomeFromLog(
  log: RunLog,
  episodeId: string,
): OutcomeEvidence | undefined {
  const events = log.episodeEvents(episodeId);
  const finished = events.findLast((e) => e.kind === "episode_finished");
  if (!finished || finished.kind !== "episode_finished") return undefined;
  const started = log.episodeStarted(episodeId);
  if (finished.outcome?.ungraded !== undefined) {
    // The grader failed, not the agents: no success, failure or fair metrics to hold against them.
    const o = finished.outcome;
    return {
      expected: o.expected ?? null,
      answer: o.answer ?? null,
      correct: null,
      success: null,
      metrics: {},
      summary:
        `Not graded: the "${o.grader}" grader could not grade this episode (${
          o.reason ?? o.ungraded
        }), which is no fault of the agents. Expected answer: ${
          shownValue(o.expected)
        }. Judge the work against it yourself.`,
    };
  }
  if (finished.outcome) {
    // Graded by the spec's outcome grader: the coach sees exactly what the run recorded.
    const o = finished.outcome;
    return {
      expected: o.expected ?? null,
      answer: o.answer ?? null,
      correct: o.correct,
      success: o.success,
      metrics: { ...o.metrics },
      summary: `${o.summary}${o.reason ? ` (${o.reason})` : ""}${
        o.fair ? " Fair values stand in for the metrics." : ""
      }`,
    };
  }
  const expected = started?.task?.answer ?? null;
  const ref = log.graph.outcome?.answer_ref;
  const answer = ref ? finished.outputs[ref.role]?.[ref.output] ?? null : null;
  return {
    expected,
    answer,
    correct: null,
    success: null,
    metrics: {},
    summary: `Expected answer: ${shownValue(expected)}. The pipeline's answer${
      ref ? ` (${ref.role}.${ref.output})` : ""
    }: ${
      shownValue(answer)
    }. Not graded: no grader has scored this episode, so judge the answer against the expected one yourself.`,
  };
}
