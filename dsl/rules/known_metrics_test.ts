import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(success: string, fair: string): string[] {
  return [
    ...HEAD,
    "roles:",
    "  - { id: a, description: d, model: m, prompts: { user: hi }, outputs: { answer: { extract: last_boxed } } }",
    DATASET,
    "outcome:",
    "  grader: exact_match",
    "  params: { answer: a.answer }",
    `  success: { metric: ${success}, at_least: 1 }`,
    `  fair: { ${fair}: 0 }`,
  ];
}

Deno.test("known_metrics: success and fair name metrics the grader reports", async () => {
  const r = await compileYaml(spec("corect", "corrrect"));
  assert.deepEqual(r.found, [
    "error unknown_metric outcome.success.metric 10:22",
    "error unknown_metric outcome.fair.corrrect 11:11",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve metric "corect" in outcome\.success: grader "exact_match" does not report it/,
  );
  assert.match(r.diagnostics[0]!.hint!, /did you mean "correct"\?/);
});

Deno.test("known_metrics: a reported metric compiles", async () => {
  const r = await compileYaml(spec("correct", "correct"));
  assert.deepEqual(r.found, []);
});
