import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(rubric: string): string[] {
  return [
    "version: 1",
    "name: t",
    "models: { m: { model: x }, judge: { model: y } }",
    "roles:",
    role("a"),
    DATASET,
    "coach:",
    "  model: judge",
    `  rubric: { name: r, ${rubric} }`,
  ];
}

Deno.test("scores_in_scale: caps and floors lie on the scale, and no check caps below its floor", async () => {
  const r = await compileYaml(spec(
    "default_score: 11, checks: [{ id: c, when: empty_reply, cap: 2, floor: 3 }, { id: d, when: empty_reply, cap: -1 }]",
  ));
  assert.deepEqual(r.found, [
    "error score_out_of_scale coach.rubric.default_score 9:37",
    "error score_out_of_scale coach.rubric.checks.0.cap 9:83",
    "error score_out_of_scale coach.rubric.checks.1.cap 9:131",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot apply the default_score of rubric "r" 11: it lies outside the rubric scale 0\.\.10/,
  );
  assert.match(
    r.diagnostics[1]!.message,
    /Cannot apply check "c": its cap 2 is below its floor 3/,
  );
});

Deno.test("scores_in_scale: a scale's min lies below its max, and a rubric has a template or a default_score", async () => {
  const r = await compileYaml(
    spec("default_score: 5, scale: { min: 5, max: 5 }"),
  );
  assert.deepEqual(r.found, [
    "error score_out_of_scale coach.rubric.scale 9:47",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot use scale 5\.\.5 of rubric "r": min must be below max/,
  );
  const neither = await compileYaml(spec("checks: []"));
  assert.deepEqual(neither.found, ["error missing_key coach.rubric 9:11"]);
  assert.match(
    neither.diagnostics[0]!.message,
    /neither a template .* nor a default_score/,
  );
});

Deno.test("scores_in_scale: scores on the scale compile", async () => {
  const r = await compileYaml(spec(
    "default_score: 10, checks: [{ id: c, when: empty_reply, cap: 3, floor: 3 }, { id: d, when: empty_reply, cap: 0 }]",
  ));
  assert.deepEqual(r.found, []);
});
