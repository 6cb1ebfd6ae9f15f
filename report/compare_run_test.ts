import assert from "node:assert/strict";
import { RubricSchema } from "../dsl/schema.ts";
import { compareRun } from "./compare_run.ts";
import { rescoreRun } from "../coaches/rescore.ts";
import { fixtureRunDir } from "../tests/fixtures/rescore_fixture.ts";

function rubric(name: string, default_score: number, hash: string) {
  const checks = [{ id: "missing", when: "required_file_missing", cap: 2 }];
  return {
    ...RubricSchema.parse({ name, default_score, checks }),
    hash,
    file: "r.yaml",
  };
}

Deno.test("compareRun() compares two layers of a run by prefix, with its task categories", async () => {
  const dir = await fixtureRunDir();
  await rescoreRun(dir, { rubric: rubric("strict", 4, "111111111111") });
  await rescoreRun(dir, { rubric: rubric("lenient", 9, "222222222222") });
  const c = await compareRun(dir, "strict", "lenient@2", { threshold: 5 });
  assert.deepEqual([c.a.layer, c.b.layer], [
    "strict@111111111111",
    "lenient@222222222222",
  ]);
  // The data engineer's two actions are capped at 2 in both; the modeler and analyst go from 4 to 9.
  assert.deepEqual(c.actions.map((d) => [d.role, d.a, d.b]), [
    ["data_engineer", 2, 2],
    ["data_engineer", 2, 2],
    ["modeler", 4, 9],
    ["analyst", 4, 9],
  ]);
  assert.deepEqual(c.flips.map((d) => d.flip), ["up", "up"]);
  assert.deepEqual(
    c.by_category.map((g) => [g.group, g.a.mean, g.b.mean]),
    [["binary", 3, 5.5]],
  );
});
