import assert from "node:assert/strict";
import { capsSpec, compileYaml } from "../../tests/fixtures/compile_yaml.ts";

function spec(bands: string): string[] {
  return capsSpec([
    "    caps:",
    `      - { id: c, metric: correct, bands: [${bands}] }`,
  ]);
}

Deno.test("cap_bands: a catch-all band before another, and a band with at_least not below below, are reported", async () => {
  const r = await compileYaml(spec(
    "{ max_score: 4 }, { at_least: 1, max_score: 10 }, { at_least: 2, below: 1, max_score: 5 }",
  ));
  assert.deepEqual(r.found, [
    "error invalid_value coach.rubric.caps.0.bands.1 14:61",
    "error invalid_value coach.rubric.caps.0.bands.2 14:93",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot reach band 2 of cap "c": band 1 has no bound and matches every value first/,
  );
  assert.match(
    r.diagnostics[1]!.message,
    /Cannot match any value with band 3 of cap "c": at_least 2 is not below 1/,
  );
});

Deno.test("cap_bands: bounded bands then a catch-all compile", async () => {
  const r = await compileYaml(spec(
    "{ at_least: 0.5, below: 1, max_score: 6 }, { at_least: 1, max_score: 10 }, { max_score: 4 }",
  ));
  assert.deepEqual(r.found, []);
});
