import assert from "node:assert/strict";
import {
  blockSpec,
  coachChecks,
  compileYaml,
  ONE_TASK,
} from "./fixtures/compile_yaml.ts";

const SPEC = blockSpec(
  "bad_check",
  "eval",
  coachChecks([
    "      - { id: nopat, when: reply_mismatch, cap: 0 }",
    '      - { id: badpat, when: reply_mismatch, pattern: "(", cap: 0 }',
    '      - { id: stray, when: empty_reply, pattern: "x", cap: 0 }',
    '      - { id: good, when: reply_mismatch, pattern: "^a", cap: 5 }',
  ]),
);

Deno.test("reply_mismatch checks: a pattern is required, must compile, and only they take one", async () => {
  const { result } = await compileYaml(SPEC, ONE_TASK);
  assert(!result.ok);
  const found = result.diagnostics.map((d) => [
    d.code,
    d.path.join("."),
    d.position?.line,
  ]);
  assert.deepEqual(found, [
    ["missing_key", "coach.rubric.checks.0.when", 19],
    ["invalid_regex", "coach.rubric.checks.1.pattern", 20],
    ["invalid_value", "coach.rubric.checks.2.pattern", 21],
  ]);
});
