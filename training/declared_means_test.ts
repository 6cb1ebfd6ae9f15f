import assert from "node:assert/strict";
import { OutcomeSchema } from "../dsl/mod.ts";
import { addEvent, emptySummary } from "../runtime/run_summary.ts";
import type { RunEvent } from "../runtime/events.ts";
import { finished, started } from "../tests/fixtures/training_fixtures.ts";
import { outcomeStats } from "./run_stats.ts";

// The means of run summaries and training metrics average a command grader's `comparable: true`
// metrics (on 0 to 1), never its others, and count failed episodes at the spec's fair values.

const outcome = OutcomeSchema.parse({
  grader: "command",
  params: {
    code: "…",
    language: "python",
    metrics: {
      pass_rate: { min: 0, max: 1, comparable: true },
      tests_passed: { min: 0 },
    },
  },
  fair: { pass_rate: 0 },
});

function events(): RunEvent[] {
  return [
    started("a", { category: "lists" }),
    finished("a", {
      grader: "command",
      success: true,
      metrics: { pass_rate: 1, tests_passed: 5 },
    }),
    started("b", { category: "lists" }),
    finished("b", {
      grader: "command",
      success: false,
      metrics: { pass_rate: 0.5, tests_passed: 2 },
    }),
    started("c", { category: "lists" }),
    finished("c", { status: "failed" }),
  ];
}

Deno.test("training means average a command grader's comparable metrics only", () => {
  const stats = outcomeStats(events(), outcome);
  // (1 + 0.5 + the failed episode's fair 0) / 3; tests_passed is on no common scale.
  assert.deepEqual(stats.metrics, { pass_rate: 0.5 });
});

Deno.test("run-summary means average a command grader's comparable metrics only", () => {
  const s = emptySummary("r", "/tmp/r", "demo", 3, 0, {
    outcome: {
      grader: outcome.grader,
      fair: outcome.fair,
      comparable: ["pass_rate"],
    },
  });
  for (const e of events()) addEvent(s, e);
  assert.deepEqual(s.by_category.lists?.metrics, { pass_rate: 0.5 });
});
