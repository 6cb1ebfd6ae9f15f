import assert from "node:assert/strict";
import { compileYaml, DATASET } from "../../tests/fixtures/compile_yaml.ts";

function spec(sees: boolean): string[] {
  return [
    "version: 1",
    "name: t",
    "models: { m: { model: x }, judge: { model: y } }",
    "roles:",
    `  - { id: a, description: d, model: m, prompts: { user: hi }, coach_sees_outcome: ${sees}, outputs: { answer: { extract: last_boxed } } }`,
    DATASET,
    "outcome: { grader: exact_match, params: { answer: a.answer } }",
    "coach:",
    "  model: judge",
    "  rubric:",
    "    name: r",
    "    default_score: 10",
    "    caps: [{ id: c, metric: correct, bands: [{ at_least: 1, max_score: 10 }, { max_score: 4 }] }]",
  ];
}

Deno.test("caps_need_outcome: a metric cap on a role whose coach may not see the outcome is reported", async () => {
  const r = await compileYaml(spec(false));
  assert.deepEqual(r.found, [
    "error outcome_not_visible coach.rubric.caps.0.metric 13:29",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot apply cap "c" to role "a": it reads the outcome metric "correct", which their coach may not see/,
  );
});

Deno.test("caps_need_outcome: a role with coach_sees_outcome compiles", async () => {
  const r = await compileYaml(spec(true));
  assert.deepEqual(r.found, []);
});
