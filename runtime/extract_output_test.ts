import assert from "node:assert/strict";
import { extractOutput, lastBoxed } from "./extract_output.ts";

Deno.test("lastBoxed() returns the last boxed answer with nested braces", () => {
  assert.equal(
    lastBoxed("first \\boxed{1} then \\boxed{\\frac{1}{2}}"),
    "\\frac{1}{2}",
  );
  assert.equal(lastBoxed("\\boxed{ 023 }"), "023");
  assert.equal(lastBoxed("\\boxed{unclosed"), undefined);
  assert.equal(lastBoxed("no box"), undefined);
  assert.equal(lastBoxed("\\fbox{7}"), "7");
});

Deno.test("extractOutput() applies each rule and gives null when nothing matches", () => {
  const text = "VERDICT: TRUE\nlater VERDICT: FALSE";
  assert.equal(
    extractOutput(text, {
      extract: "regex",
      pattern: "VERDICT:\\s*(TRUE|FALSE)",
      group: 1,
    }),
    "FALSE",
  );
  assert.equal(
    extractOutput("nothing", { extract: "regex", pattern: "x(y)", group: 1 }),
    null,
  );
  assert.equal(
    extractOutput("all of it", { extract: "final_text" }),
    "all of it",
  );
  assert.equal(
    extractOutput('Result:\n```json\n{"a": 1}\n```', { extract: "json" }),
    '{"a":1}',
  );
  assert.equal(
    extractOutput('the plan is {"prove": [1]} ok', { extract: "json" }),
    '{"prove":[1]}',
  );
  assert.equal(extractOutput("no json", { extract: "json" }), null);
  assert.equal(
    extractOutput("so \\boxed{42}.", { extract: "last_boxed" }),
    "42",
  );
});
