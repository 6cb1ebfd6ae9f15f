import assert from "node:assert/strict";
import { nestedQuantifier } from "./_slow_regex.ts";

Deno.test("nestedQuantifier() finds groups that repeat a repeated part", () => {
  assert.equal(nestedQuantifier("(a+)+$"), 0);
  assert.equal(nestedQuantifier("^x(\\w*\\s?)*y"), 2);
  assert.equal(nestedQuantifier("((ab)*c)+"), 0);
  assert.equal(nestedQuantifier("(a+){2,}"), 0);
});

Deno.test("nestedQuantifier() accepts single repetition, classes and escapes", () => {
  for (
    const ok of [
      "^\\d+$",
      "(ab)+",
      "(a+)?b",
      "[(a+)]+",
      "\\(a+\\)+",
      "(a+){2}",
      "\\\\boxed\\{([^}]*)\\}",
      "^(?:yes|no)$",
    ]
  ) assert.equal(nestedQuantifier(ok), undefined, ok);
});
