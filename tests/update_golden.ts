/**
 * Regenerates every `tests/spec_errors/<case>.expected` from its `<case>.yaml`: `deno task golden:update`.
 * Review the diff before committing; the goldens are the only test of diagnostic wording.
 *
 * @module
 */
import { expectedPath, goldenCases, renderCase } from "./golden_cases.ts";

const encoder = new TextEncoder();
let changed = 0;
const cases = goldenCases();
for (const name of cases) {
  const { text } = await renderCase(name);
  const path = expectedPath(name);
  let old: string | undefined;
  try {
    old = Deno.readTextFileSync(path);
  } catch {
    old = undefined;
  }
  if (old === text) continue;
  Deno.writeTextFileSync(path, text);
  changed++;
  Deno.stdout.writeSync(
    encoder.encode(`${old === undefined ? "created" : "updated"} ${path}\n`),
  );
}
Deno.stdout.writeSync(
  encoder.encode(`${cases.length} golden cases, ${changed} written\n`),
);
