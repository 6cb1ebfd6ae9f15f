import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(entry: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    role("b", "after: [a]"),
    role("c"),
    `flow: { entry: [${entry}] }`,
    DATASET,
  ];
}

Deno.test("unreachable_roles: a role no path of after edges from flow.entry reaches is reported", async () => {
  const r = await compileYaml(spec("a"));
  assert.deepEqual(r.found, ["error unreachable_role roles.2.id 7:11"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot reach role "c" from the entry roles: no path of "after" edges leads to it/,
  );
  assert.match(r.diagnostics[0]!.hint!, /add "c" to flow\.entry/);
});

Deno.test("unreachable_roles: every role reached from the entry roles compiles", async () => {
  const r = await compileYaml(spec("a, c"));
  assert.deepEqual(r.found, []);
});
