import type { OutcomeRecord } from "../events.ts";
import type { Grade, GradeInput, Grader } from "./grade.ts";
import { GRADERS } from "./registry.ts";
import type {
  ExecutionGraph,
  Outcome,
  SingleOutcome,
  SuccessCondition,
} from "../../dsl/mod.ts";
import type { Sandbox } from "../ports.ts";
import { UngradedError } from "./ungraded_error.ts";
import { shownValue } from "./shown_value.ts";

/** Options of {@linkcode gradeEpisode}. */
export interface GradeEpisodeOptions {
  /**
   * Wall-clock limit of one grading, in milliseconds; past it the episode is ungraded. A command or
   * function grader's own `timeout_s` (summed over a composite's components) plus 30 s raises it.
   * @default 120000
   */
  readonly timeoutMs?: number;
  /**
   * Grader kinds by name on top of the built-in ones (`GRADERS`), e.g. `llm_judge` from coaches/: the
   * outcome's grader and a composite's components are looked up here first.
   */
  readonly graders?: Readonly<Record<string, Grader>>;
  /** Runs command graders' programs; without it they leave episodes ungraded. */
  readonly sandbox?: Sandbox;
  /** Runs `fn` with a free sandbox slot of the run's pool. @default slot 0 */
  readonly withSlot?: <T>(fn: (slot: number) => Promise<T>) => Promise<T>;
  /** Stops grading (the episode is then ungraded). */
  readonly signal?: AbortSignal;
  /** The episode's id, shown to command and function graders. */
  readonly episodeId?: string;
}

type Ungraded = NonNullable<OutcomeRecord["ungraded"]>;

/** Slack past a program grader's own time limit: copying the workspace, starting the jail. */
const PROGRAM_SLACK_MS = 30_000;
/** Slack past an LLM judge's model time: rendering the prompt, the judge cache. */
const JUDGE_SLACK_MS = 1_000;

/**
 * What a grader may take beyond the default limit, in milliseconds: a command or function grader its
 * own `timeout_s` plus slack; an LLM judge one model timeout per verdict attempt (its `max_retries` + 1)
 * plus slack, so a slow judge is waited for rather than masked; a composite its components' sum.
 */
function graderTimeMs(
  outcome: Outcome | SingleOutcome,
  models: ExecutionGraph["models"],
): number {
  switch (outcome.grader) {
    case "composite":
      return Object.values(outcome.params.graders).reduce(
        (sum, g) => sum + graderTimeMs(g, models),
        0,
      );
    case "command":
    case "function":
      return outcome.params.timeout_s * 1000 + PROGRAM_SLACK_MS;
    case "llm_judge": {
      const timeoutS = models[outcome.params.model]?.timeout_s ?? 0;
      return (outcome.params.max_retries + 1) * timeoutS * 1000 +
        JUDGE_SLACK_MS;
    }
    default:
      return 0;
  }
}

/**
 * Runs the grader under a wall-clock limit, not counting time spent waiting for a sandbox slot; a throw
 * or a timeout is the infrastructure's, not the agents'.
 */
async function runGrader(
  grader: Grader,
  input: GradeInput,
  timeoutMs: number,
): Promise<Grade | { ungraded: Ungraded; message: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = new AbortController();
  const outer = input.signal;
  const onAbort = () => stop.abort();
  outer?.addEventListener("abort", onAbort, { once: true });
  if (outer?.aborted) stop.abort();
  // Time spent waiting for a sandbox slot (other episodes' tools hold them) is not the grader's.
  let waited = 0;
  let waitingSince: number | null = null;
  const slotted = input.withSlot;
  const withSlot = slotted &&
    (<T>(fn: (slot: number) => Promise<T>): Promise<T> => {
      waitingSince = performance.now();
      return slotted((slot) => {
        waited += performance.now() - waitingSince!;
        waitingSince = null;
        return fn(slot);
      });
    });
  const started = performance.now();
  const timeout = new Promise<{ ungraded: Ungraded; message: string }>(
    (resolve) => {
      const fire = () => {
        const now = performance.now();
        const due = started + timeoutMs + waited +
          (waitingSince === null ? 0 : now - waitingSince);
        if (now < due) {
          timer = setTimeout(fire, Math.max(1, due - now));
          return;
        }
        stop.abort();
        resolve({
          ungraded: "grader_timeout",
          message: `it took longer than ${timeoutMs} ms`,
        });
      };
      timer = setTimeout(fire, timeoutMs);
    },
  );
  try {
    return await Promise.race([
      // Through then(): a grader that throws before returning its promise is caught too.
      Promise.resolve().then(() =>
        grader({
          ...input,
          signal: stop.signal,
          ...(withSlot ? { withSlot } : {}),
        })
      ).catch((e: unknown) => ({
        ungraded: e instanceof UngradedError ? e.kind : "grader_error",
        message: e instanceof Error ? e.message : String(e),
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onAbort);
  }
}

/**
 * Grades a finished episode with the spec's outcome grader and decides success: the spec's
 * `outcome.success` rule on the metrics when declared, else the answer's correctness, else validity.
 * A grader that is missing, throws (a grader never throws for bad agent output, so a missing or
 * unreadable answers file) or times out leaves the episode ungraded (`ungraded` says which): it is
 * recorded with its reason, never as a success, and its outcome reward is masked (DESIGN.md decision 11).
 */
export async function gradeEpisode(
  input: GradeInput,
  options: GradeEpisodeOptions = {},
): Promise<OutcomeRecord | undefined> {
  const outcome = input.graph.outcome;
  if (!outcome) return undefined;
  const fair = { ...outcome.fair };
  const graders: Record<string, Grader> = {
    ...GRADERS,
    ...options.graders,
  };
  const grader = graders[outcome.grader];
  // No grade, through no fault of the actors: the episode keeps the outcome's fair metrics.
  let why: Ungraded | undefined;
  const ungraded = (
    kind: Ungraded,
    reason: string,
    summary: string,
  ): Grade => {
    why = kind;
    return {
      valid: false,
      correct: null,
      metrics: fair,
      fair: true,
      answer: null,
      expected: input.task.answer ?? null,
      reason,
      summary,
    };
  };
  let grade: Grade;
  if (!grader) {
    grade = ungraded(
      "grader_missing",
      `not graded: the "${outcome.grader}" grader is not available in this version`,
      `Not graded: no "${outcome.grader}" grader. Expected: ${
        shownValue(input.task.answer)
      }.`,
    );
  } else {
    const got = await runGrader(
      grader,
      {
        ...input,
        graders,
        ...(options.sandbox ? { sandbox: options.sandbox } : {}),
        ...(options.withSlot ? { withSlot: options.withSlot } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.episodeId ? { episode_id: options.episodeId } : {}),
      },
      Math.max(
        options.timeoutMs ?? 120_000,
        graderTimeMs(outcome, input.graph.models),
      ),
    );
    grade = "ungraded" in got
      ? ungraded(
        got.ungraded,
        `the grader ${
          got.ungraded === "grader_timeout"
            ? "timed out"
            : got.ungraded === "grader_invalid_output"
            ? "gave invalid output"
            : got.ungraded === "grader_missing"
            ? "could not run"
            : "failed"
        }: ${got.message}`,
        `Not graded: the "${outcome.grader}" grader failed.`,
      )
      : got;
  }
  let success: boolean;
  const rule = outcome.success;
  const holds = (c: SuccessCondition) => {
    const value = grade.metrics[c.metric];
    return value !== undefined && Number.isFinite(value) &&
      (c.at_least === undefined || value >= c.at_least) &&
      (c.at_most === undefined || value <= c.at_most);
  };
  if (rule === undefined) success = grade.correct ?? grade.valid;
  else if ("metric" in rule) success = grade.valid && holds(rule);
  // Combined conditions read the metrics even of an invalid grade: a missing named answer is its 0.
  else if ("all" in rule) success = rule.all.every(holds);
  else if ("any" in rule) success = rule.any.some(holds);
  else success = rule.of.filter(holds).length >= rule.at_least_k;
  if (why !== undefined) success = false;
  return {
    grader: outcome.grader,
    valid: grade.valid,
    correct: grade.correct,
    success,
    metrics: { ...grade.metrics },
    fair: grade.fair,
    answer: grade.answer ?? null,
    expected: grade.expected ?? null,
    ...(grade.reason !== undefined ? { reason: grade.reason } : {}),
    summary: grade.summary,
    ...(why !== undefined ? { ungraded: why } : {}),
  };
}
