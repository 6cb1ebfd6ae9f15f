import assert from "node:assert/strict";
import { compileYaml, HEAD, role } from "../../tests/fixtures/compile_yaml.ts";

function spec(defaultSplit: string, trainSplit: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    "dataset:",
    '  splits: { train: "https://x/t.jsonl", eval: "https://x/e.jsonl" }',
    `  default_split: ${defaultSplit}`,
    "  fields: { inputs: {} }",
    `train: { split: ${trainSplit}, eval: { splits: [eval] } }`,
  ];
}

Deno.test("unknown_splits: default_split and train.split name declared splits", async () => {
  const r = await compileYaml(spec("evl", "trainn"));
  assert.deepEqual(r.found, [
    "error unknown_split dataset.default_split 8:18",
    "error unknown_split train.split 10:17",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve split "evl" in dataset\.default_split: dataset\.splits has no such split/,
  );
  assert.match(r.diagnostics[1]!.hint!, /did you mean "train"\?/);
});

Deno.test("unknown_splits: declared splits compile", async () => {
  const r = await compileYaml(spec("eval", "train"));
  assert.deepEqual(r.found, []);
});
