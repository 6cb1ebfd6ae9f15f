import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(judgeModel: string, template = true): string[] {
  return [
    "version: 1",
    "name: t",
    `models: { m: { model: x }, judge: { model: ${judgeModel} } }`,
    "roles:",
    role("a"),
    DATASET,
    "coach:",
    "  model: judge",
    template
      ? '  rubric: { name: r, template: "Score {{ action.output }}" }'
      : "  rubric: { name: r, default_score: 10 }",
  ];
}

Deno.test("self_preference: a coach served by the same model as a role it judges is a warning", async () => {
  const r = await compileYaml(spec("x"));
  assert(r.ok);
  assert.deepEqual(r.found, ["warning self_preference coach.model 8:10"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot rule out self-preference: the coach model "judge" also serves role "a"/,
  );
});

Deno.test("self_preference: a coach from another model, or a rubric without a template, is not warned about", async () => {
  assert.deepEqual((await compileYaml(spec("y"))).found, []);
  assert.deepEqual((await compileYaml(spec("x", false))).found, []);
});
