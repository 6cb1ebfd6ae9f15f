import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/mod.ts";

const spec = (samples: number) =>
  `version: 1
name: gb
models:
  m: { model: x, base_url: "" }
roles:
  - id: a
    description: d
    model: m
    prompts: { user: hi }
dataset:
  splits: { train: data.jsonl }
  fields: { inputs: {} }
train:
  samples_per_task: ${samples}
  hyperparameters: { baseline: group }
`;

Deno.test("baseline: group needs at least 2 samples per task", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "data.jsonl"), "{}\n");
  const file = join(dir, "spec.yaml");
  await Deno.writeTextFile(file, spec(1));
  const bad = compileFile(file);
  assert(!bad.ok);
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.code, d.path.join("."), d.position?.line]),
    [["invalid_value", "train.hyperparameters.baseline", 15]],
  );
  await Deno.writeTextFile(file, spec(2));
  assert(compileFile(file).ok);
});
