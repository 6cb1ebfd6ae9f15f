import assert from "node:assert/strict";
import { capsSpec, compileYaml } from "../../tests/fixtures/compile_yaml.ts";

function spec(sees: boolean): string[] {
  return capsSpec(
    [
      "    caps: [{ id: c, metric: correct, bands: [{ at_least: 1, max_score: 10 }, { max_score: 4 }] }]",
    ],
    sees,
  );
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
