import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(min: number, max: number, entry: string): string[] {
  return [
    "version: 1",
    "name: t",
    `models: { m: { model: x, sampling: { min_tokens: ${min}, max_tokens: ${max} } } }`,
    "roles:",
    role("a"),
    role("b", "after: [a]"),
    `flow: { entry: [${entry}] }`,
    DATASET,
  ];
}

Deno.test("conflicting_values: min_tokens above max_tokens, and an entry role that runs after another", async () => {
  const r = await compileYaml(spec(512, 256, "b"));
  assert.deepEqual(r.found.filter((f) => f.includes("conflicting_values")), [
    "error conflicting_values models.m.sampling.min_tokens 3:50",
    "error conflicting_values flow.entry.0 7:17",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot generate at least 512 and at most 256 tokens: min_tokens is above max_tokens/,
  );
  assert.equal(r.diagnostics[0]!.related?.[0]?.position?.line, 3);
  const entry = r.diagnostics.find((d) => d.path[0] === "flow")!;
  assert.match(
    entry.message,
    /Cannot start an episode with role "b": it runs after "a"/,
  );
});

Deno.test("conflicting_values: consistent values compile", async () => {
  const r = await compileYaml(spec(256, 256, "a"));
  assert.deepEqual(r.found, []);
});
