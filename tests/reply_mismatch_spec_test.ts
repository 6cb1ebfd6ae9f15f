import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/mod.ts";

const SPEC = `version: 1
name: bad_check
models:
  m: { model: x, base_url: "" }
roles:
  - id: a
    description: d
    model: m
    prompts: { user: hi }
dataset:
  splits: { eval: data.jsonl }
  fields: { inputs: {} }
coach:
  model: m
  rubric:
    name: r
    default_score: 10
    checks:
      - { id: nopat, when: reply_mismatch, cap: 0 }
      - { id: badpat, when: reply_mismatch, pattern: "(", cap: 0 }
      - { id: stray, when: empty_reply, pattern: "x", cap: 0 }
      - { id: good, when: reply_mismatch, pattern: "^a", cap: 5 }
`;

Deno.test("reply_mismatch checks: a pattern is required, must compile, and only they take one", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "data.jsonl"), "{}\n");
  const file = join(dir, "spec.yaml");
  await Deno.writeTextFile(file, SPEC);
  const result = compileFile(file);
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
