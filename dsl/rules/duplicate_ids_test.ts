import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

Deno.test("duplicate_ids: a second role with the same id, and a role listed twice, are reported at the repeat", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a"),
    role("b"),
    role("a"),
    "flow: { entry: [a, b, a] }",
    DATASET,
  ]);
  assert.deepEqual(r.found, [
    "error duplicate_id roles.2.id 7:11",
    "error duplicate_id flow.entry.2 8:23",
  ]);
  assert.match(r.diagnostics[0]!.message, /Cannot declare role "a" twice/);
  assert.equal(r.diagnostics[0]!.related?.[0]?.position?.line, 5);
  assert.match(
    r.diagnostics[1]!.message,
    /Cannot list role "a" twice in flow\.entry/,
  );
});

Deno.test("duplicate_ids: distinct ids compile", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a"),
    role("b"),
    role("c"),
    "flow: { entry: [a, b, c] }",
    DATASET,
  ]);
  assert.deepEqual(r.found, []);
  assert(r.ok);
});
