import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

Deno.test("handoff_upstream: a role cannot see a role that runs after it, nor itself", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a", "sees: { b: [final_text], a: [final_text] }"),
    role("b", "after: [a]"),
    DATASET,
  ]);
  assert.deepEqual(r.found, [
    "error handoff_not_upstream roles.0.sees.b 5:71",
    "error handoff_not_upstream roles.0.sees.a 5:88",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot show role "b" to role "a": "b" is not upstream of it/,
  );
  assert.match(r.diagnostics[0]!.hint!, /"b" runs after "a"/);
  assert.match(r.diagnostics[1]!.message, /its own work through sees/);
});

Deno.test("handoff_upstream: a role sees one it runs after", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a"),
    role("b", "after: [a], sees: { a: [final_text] }"),
    DATASET,
  ]);
  assert.deepEqual(r.found, []);
});
