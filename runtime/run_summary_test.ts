import assert from "node:assert/strict";
import type { RunEvent } from "./events.ts";
import { formatSummary } from "./format_progress.ts";
import { addEvent, emptySummary } from "./run_summary.ts";

function started(id: string, category: string): RunEvent {
  return {
    kind: "episode_started",
    role: null,
    episode_id: id,
    category,
  } as unknown as RunEvent;
}

function finished(
  id: string,
  outcome?: Record<string, unknown>,
  status = "completed",
): RunEvent {
  return {
    kind: "episode_finished",
    role: null,
    episode_id: id,
    status,
    ...(outcome ? { outcome } : {}),
  } as unknown as RunEvent;
}

function tabular(score: number, raw: Record<string, number>) {
  return {
    grader: "tabular_metric",
    valid: true,
    success: score > 0.5,
    metrics: { valid_submission: 1, score, ...raw },
  };
}

Deno.test("run summary means: one scale across tasks, failed episodes at fair values, grader failures apart", async (t) => {
  await t.step(
    "an rmse and an rmsle are never averaged; the relative-gap score is",
    () => {
      const s = emptySummary("r", "/tmp/r", "model", 3, 0, {
        outcome: { grader: "tabular_metric", fair: {} },
      });
      addEvent(s, started("e1", "regression"));
      addEvent(s, started("e2", "regression"));
      addEvent(s, finished("e1", tabular(0.8, { rmse: 1200 })));
      addEvent(s, finished("e2", tabular(0.4, { rmsle: 0.3 })));
      const c = s.by_category.regression!;
      assert.deepEqual(Object.keys(c.metrics).sort(), [
        "score",
        "valid_submission",
      ]);
      assert.ok(Math.abs(c.metrics.score! - 0.6) < 1e-12);
      assert.equal(c.graded, 2);
      assert.equal(c.successes, 1);
    },
  );

  await t.step(
    "an episode that failed before grading lowers the means at its fair value, and the summary says so",
    () => {
      const s = emptySummary("r", "/tmp/r", "model", 3, 0, {
        outcome: { grader: "math_equivalence", fair: { correct: 0 } },
      });
      for (const id of ["a", "b", "c"]) addEvent(s, started(id, "algebra"));
      addEvent(
        s,
        finished("a", {
          grader: "math_equivalence",
          success: true,
          metrics: { correct: 1 },
        }),
      );
      addEvent(s, finished("b", undefined, "failed"));
      addEvent(
        s,
        finished("c", {
          grader: "math_equivalence",
          success: false,
          metrics: { correct: 0 },
          ungraded: "grader_error",
          reason: "the grader failed: boom",
        }),
      );
      const c = s.by_category.algebra!;
      assert.equal(c.failed, 1);
      assert.equal(c.graded, 1);
      assert.equal(c.metrics.correct, 0.5); // (1 + fair 0) / 2; the ungraded episode is left out
      assert.equal(s.ungraded, 1);
      const text = formatSummary(s).join("\n");
      assert.match(
        text,
        /algebra: 1\/1 \(100\.0%\); means \(1 failed episode at fair values\): correct 0\.5/,
      );
    },
  );

  await t.step(
    "the spec's fair value, not 0, is what a failed episode counts for",
    () => {
      const s = emptySummary("r", "/tmp/r", "model", 2, 0, {
        outcome: { grader: "tabular_metric", fair: { valid_submission: 0.25 } },
      });
      addEvent(s, started("x", "cls"));
      addEvent(s, finished("x", undefined, "failed"));
      assert.deepEqual(s.by_category.cls!.metrics, {
        score: 0,
        valid_submission: 0.25,
      });
    },
  );
});
