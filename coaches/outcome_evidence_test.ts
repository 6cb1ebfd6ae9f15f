import assert from "node:assert/strict";
import { RunEventSchema } from "../runtime/events.ts";
import { outcomeFromLog } from "./outcome_evidence.ts";
import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";

function finish(run: FixtureRun, ungraded?: "grader_error") {
  run.log.add(RunEventSchema.parse({
    run_id: "fixture__0__1",
    step: 99,
    ts: "2026-01-01T00:00:00.000Z",
    kind: "episode_finished",
    role: null,
    episode_id: "eval:t1",
    attempt: 1,
    status: "completed",
    actions: 0,
    wall_ms: 1,
    outputs: {},
    files: {},
    outcome: {
      grader: "tabular_metric",
      valid: false,
      correct: null,
      success: false,
      metrics: { accuracy: 0.5 },
      fair: true,
      answer: null,
      expected: "answers.csv",
      reason: ungraded
        ? 'the grader failed: Cannot read answers file "a.csv": no such file'
        : "no submission.csv in the workspace",
      summary: "Not graded.",
      ...(ungraded ? { ungraded } : {}),
    },
  }));
}

Deno.test("outcomeFromLog() shows a grader failure to the judge as not graded, no fault of the agents, with no fair metrics", () => {
  const run = new FixtureRun();
  run.started();
  finish(run, "grader_error");
  const o = outcomeFromLog(run.log, "eval:t1")!;
  assert.deepEqual([o.success, o.correct, o.metrics], [null, null, {}]);
  assert.match(
    o.summary,
    /^Not graded: the "tabular_metric" grader could not grade this episode \(the grader failed: Cannot read answers file .*\), which is no fault of the agents\./,
  );
  // The agents' own invalid submission stays a graded failure with its fair values.
  const own = new FixtureRun();
  own.started();
  finish(own);
  const f = outcomeFromLog(own.log, "eval:t1")!;
  assert.deepEqual([f.success, f.metrics], [false, { accuracy: 0.5 }]);
});
