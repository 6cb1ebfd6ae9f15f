import assert from "node:assert/strict";
import { compileYaml, DATASET } from "../../tests/fixtures/compile_yaml.ts";

function spec(roleModel: string, coachModel: string): string[] {
  return [
    "version: 1",
    "name: t",
    "models: { m: { model: x }, judge: { model: y } }",
    "roles:",
    `  - { id: a, description: d, model: ${roleModel}, prompts: { user: hi } }`,
    DATASET,
    "coach:",
    `  model: ${coachModel}`,
    '  rubric: { name: r, template: "Score {{ action.output }}" }',
  ];
}

Deno.test("unknown_models: a role's and the coach's model must name a key of models", async () => {
  const r = await compileYaml(spec("mm", "judg"));
  assert.deepEqual(r.found, [
    "error unknown_model roles.0.model 5:37",
    "error unknown_model coach.model 8:10",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve model "mm" of role "a": no model has that name/,
  );
  assert.match(r.diagnostics[1]!.message, /of the coach/);
  assert.match(r.diagnostics[1]!.hint!, /did you mean "judge"\?/);
});

Deno.test("unknown_models: declared models compile", async () => {
  const r = await compileYaml(spec("m", "judge"));
  assert.deepEqual(r.found, []);
});
