import assert from "node:assert/strict";
import { blockSpec, compileYaml, ONE_TASK } from "./fixtures/compile_yaml.ts";

const spec = (samples: number) =>
  blockSpec("gb", "train", [
    "train:",
    `  samples_per_task: ${samples}`,
    "  hyperparameters: { baseline: group }",
  ]);

Deno.test("baseline: group needs at least 2 samples per task", async () => {
  const bad = (await compileYaml(spec(1), ONE_TASK)).result;
  assert(!bad.ok);
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.code, d.path.join("."), d.position?.line]),
    [["invalid_value", "train.hyperparameters.baseline", 15]],
  );
  assert((await compileYaml(spec(2), ONE_TASK)).result.ok);
});
