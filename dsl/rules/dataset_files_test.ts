import assert from "node:assert/strict";
import { compileYaml, HEAD, role } from "../../tests/fixtures/compile_yaml.ts";

function spec(file: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    `dataset: { splits: { eval: ${file} }, fields: { inputs: {} } }`,
  ];
}

Deno.test("dataset_files: a local split file that does not exist yet is a warning", async () => {
  const r = await compileYaml(spec("data/eval.jsonl"));
  assert(r.ok);
  assert.deepEqual(r.found, [
    "warning missing_dataset_file dataset.splits.eval 6:28",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot find the file ".*data\/eval\.jsonl" of split "eval": it does not exist yet/,
  );
});

Deno.test("dataset_files: a split file outside the spec's folder is an error", async () => {
  const r = await compileYaml(spec("../eval.jsonl"));
  assert.deepEqual(r.found, [
    "error include_outside_folder dataset.splits.eval 6:28",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot read the file of split "eval" ".*eval\.jsonl": /,
  );
});

Deno.test("dataset_files: an existing split file inside the folder compiles", async () => {
  const r = await compileYaml(spec("data/eval.jsonl"), {
    "data/eval.jsonl": "{}\n",
  });
  assert.deepEqual(r.found, []);
});
