import assert from "node:assert/strict";
import { JudgeBudget } from "./judge_budget.ts";

Deno.test("JudgeBudget refuses the call after max_calls", () => {
  const budget = new JudgeBudget({ max_calls: 2 });
  assert.equal(budget.tryStart(), true);
  assert.equal(budget.tryStart(), true);
  assert.equal(budget.exhausted, true);
  assert.equal(budget.tryStart(), false);
  assert.equal(budget.calls, 2);
  assert.equal(budget.describe(), "2 of max_calls 2 judge calls made");
});

Deno.test("JudgeBudget refuses calls once max_usd is spent, counting unpriced replies apart", () => {
  const budget = new JudgeBudget({ max_usd: 0.01 });
  assert.ok(budget.tryStart());
  budget.record(0.004);
  assert.ok(budget.tryStart());
  budget.record(null);
  assert.ok(budget.tryStart());
  budget.record(0.006);
  assert.equal(budget.tryStart(), false);
  assert.equal(budget.calls, 3);
  assert.equal(budget.unpricedCalls, 1);
  assert.ok(Math.abs(budget.usd - 0.01) < 1e-12);
  assert.equal(budget.describe(), "0.01 of max_usd 0.01 USD spent");
});

Deno.test("JudgeBudget without limits never refuses", () => {
  const budget = new JudgeBudget();
  for (let i = 0; i < 1000; i++) assert.ok(budget.tryStart());
  assert.equal(budget.exhausted, false);
  assert.equal(budget.describe(), "1000 judge calls made, 0 USD spent");
});

Deno.test("JudgeBudget refuses negative limits", () => {
  assert.throws(() => new JudgeBudget({ max_calls: -1 }), {
    name: "RangeError",
    message:
      "Cannot create a judge budget: max_calls must be a number >= 0, got -1",
  });
});

Deno.test("JudgeBudget with max_calls 0 allows no call", () => {
  assert.equal(new JudgeBudget({ max_calls: 0 }).tryStart(), false);
});
