import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

Deno.test("unknown_roles: after, sees and flow.entry name declared roles", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("solver"),
    role("checker", "after: [solvr], sees: { solvr: [final_text] }"),
    "flow: { entry: [solver, solvr] }",
    DATASET,
  ]);
  assert.deepEqual(r.found, [
    "error unknown_role roles.1.after.0 6:77",
    "error unknown_role roles.1.sees.solvr 6:93",
    "error unknown_role flow.entry.1 7:25",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve role "solvr" in the "after" list of role "checker": no role has that id/,
  );
  assert.match(r.diagnostics[0]!.hint!, /did you mean "solver"\?/);
});

Deno.test("unknown_roles: references to declared roles compile", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("solver"),
    role("checker", "after: [solver], sees: { solver: [final_text] }"),
    "flow: { entry: [solver] }",
    DATASET,
  ]);
  assert.deepEqual(r.found, []);
});
