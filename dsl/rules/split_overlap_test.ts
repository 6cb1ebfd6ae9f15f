import assert from "node:assert/strict";
import { compileYaml, HEAD, role } from "../../tests/fixtures/compile_yaml.ts";

function spec(evalFile: string, evalSplits: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    `dataset: { splits: { train: "https://x/t.jsonl", ev: "${evalFile}" }, fields: { inputs: {} } }`,
    `train: { split: train, eval: { splits: [${evalSplits}] } }`,
  ];
}

Deno.test("split_overlap: evaluating on the train split, or on its file, is a warning", async () => {
  const r = await compileYaml(spec("https://x/t.jsonl", "train, ev"));
  assert(r.ok);
  assert.deepEqual(r.found, [
    "warning split_overlap train.eval.splits.0 7:41",
    "warning split_overlap train.eval.splits.1 7:48",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot evaluate on split "train" apart from training: it is the train split/,
  );
  assert.match(
    r.diagnostics[1]!.message,
    /reads the same file as the train split "train"/,
  );
});

Deno.test("split_overlap: a held-out split compiles without a warning", async () => {
  const r = await compileYaml(spec("https://x/e.jsonl", "ev"));
  assert.deepEqual(r.found, []);
});
