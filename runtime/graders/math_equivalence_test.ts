import assert from "node:assert/strict";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import { OutcomeSchema } from "../../dsl/schema.ts";
import type { Task } from "../load_tasks.ts";
import { mathEquivalenceGrader } from "./math_equivalence.ts";

/** A graph whose outcome is the spec's `outcome:` block after the schema filled its defaults. */
function graphWith(params: Record<string, unknown>): ExecutionGraph {
  const outcome = OutcomeSchema.parse({
    grader: "math_equivalence",
    params: { answer: "verifier.answer", ...params },
  });
  return {
    outcome: { ...outcome, answer_ref: { role: "verifier", output: "answer" } },
  } as unknown as ExecutionGraph;
}

const TASK: Task = {
  id: "two-boxes",
  index: 0,
  split: "eval",
  category: null,
  inputs: {},
  answer: "4",
  files: [],
  row: {},
};

async function grade(params: Record<string, unknown>, answer: string) {
  return await mathEquivalenceGrader({
    graph: graphWith(params),
    task: TASK,
    outputs: { verifier: { answer } },
    workspace: ".",
  });
}

Deno.test("mathEquivalenceGrader reads the spec's boxed policy: last counts only the last box", async () => {
  const hedge = "\\boxed{3} and \\boxed{4}";
  assert.equal((await grade({}, hedge)).correct, false); // default "all": the set {3,4} is not 4
  assert.equal((await grade({ boxed: "all" }, hedge)).correct, false);
  assert.equal((await grade({ boxed: "last" }, hedge)).correct, true);
});

Deno.test("mathEquivalenceGrader reads the spec's chained policy: whole compares the equation", async () => {
  const chain = "x = 2+2 = 4";
  assert.equal((await grade({}, chain)).correct, true); // default "last": the last side
  assert.equal((await grade({ chained: "whole" }, chain)).correct, false);
});
