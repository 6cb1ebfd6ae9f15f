import assert from "node:assert/strict";
import { compileYaml, HEAD, role } from "../../tests/fixtures/compile_yaml.ts";

function spec(trainable: string, train: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a", `trainable: ${trainable}`),
    'dataset: { splits: { train: "https://x/t.jsonl" }, fields: { inputs: {} } }',
    `train: { ${train} }`,
  ];
}

Deno.test("trainable_conflict: train.roles names only trainable roles", async () => {
  const r = await compileYaml(spec("false", "roles: [a]"));
  assert.deepEqual(r.found, ["error trainable_conflict train.roles.0 7:18"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot train role "a": it is declared trainable: false/,
  );
  assert.equal(r.diagnostics[0]!.related?.[0]?.position?.line, 5);
});

Deno.test("trainable_conflict: a spec that trains has a trainable role, and a group baseline two samples", async () => {
  const none = await compileYaml(spec("false", "split: train"));
  assert.deepEqual(none.found, ["error trainable_conflict train 7:8"]);
  assert.match(
    none.diagnostics[0]!.message,
    /every role is declared trainable: false/,
  );
  const group = await compileYaml(
    spec("true", "samples_per_task: 1, hyperparameters: { baseline: group }"),
  );
  assert.deepEqual(group.found, [
    "error invalid_value train.hyperparameters.baseline 7:60",
  ]);
  assert.match(
    group.diagnostics[0]!.message,
    /Cannot use baseline: group with samples_per_task 1/,
  );
});

Deno.test("trainable_conflict: a trainable role listed in train.roles compiles", async () => {
  const r = await compileYaml(
    spec(
      "true",
      "roles: [a], samples_per_task: 2, hyperparameters: { baseline: group }",
    ),
  );
  assert.deepEqual(r.found, []);
});
