import assert from "node:assert/strict";
import { compileYaml, HEAD } from "../../tests/fixtures/compile_yaml.ts";

function spec(user: string): string[] {
  return [
    ...HEAD,
    "roles:",
    `  - { id: a, description: d, model: m, prompts: { user: "${user}" } }`,
    'dataset: { splits: { eval: "https://x/y.jsonl" }, fields: { inputs: { problem: question } } }',
  ];
}

Deno.test("template_variables: a prompt reads only variables in its role's context", async () => {
  const r = await compileYaml(spec("Solve {{ task.problm }}"));
  assert.deepEqual(r.found, [
    "error unknown_template_variable roles.0.prompts.user 5:67",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve template variable "task\.problm" in the user prompt of role "a": "task" has no "problm" for role "a"/,
  );
  assert.match(r.diagnostics[0]!.hint!, /did you mean "problem"\?/);
});

Deno.test("template_variables: agents never see outcome facts", async () => {
  const r = await compileYaml(spec("Solve {{ outcome.expected }}"));
  assert.deepEqual(r.found, [
    "error outcome_not_visible roles.0.prompts.user 5:67",
  ]);
  assert.match(r.diagnostics[0]!.message, /agents never see outcome facts/);
});

Deno.test("template_variables: Liquid syntax errors and unknown filters are template_syntax errors", async () => {
  const open = await compileYaml(spec("{% if task.problem %}x"));
  assert.deepEqual(open.found, [
    "error template_syntax roles.0.prompts.user 5:58",
  ]);
  assert.match(
    open.diagnostics[0]!.message,
    /Cannot parse the template of the user prompt of role "a": tag \{% if task\.problem %\} not closed/,
  );
  const filter = await compileYaml(spec("{{ task.problem | upcas }}"));
  assert.deepEqual(filter.found, [
    "error template_syntax roles.0.prompts.user 5:76",
  ]);
  assert.match(
    filter.diagnostics[0]!.message,
    /the filter "upcas" does not exist/,
  );
});

Deno.test("template_variables: a prompt reading a declared input compiles", async () => {
  const r = await compileYaml(spec("Solve {{ task.problem | upcase }}"));
  assert.deepEqual(r.found, []);
});
