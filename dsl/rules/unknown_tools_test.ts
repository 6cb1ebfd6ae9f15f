import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(tool: string): string[] {
  return [
    ...HEAD,
    "tools: { python: { language: python } }",
    "roles:",
    role("a", `tools: [${tool}]`),
    DATASET,
  ];
}

Deno.test("unknown_tools: a role's tools are declared under tools", async () => {
  const r = await compileYaml(spec("pyhton"));
  assert.deepEqual(r.found, ["error unknown_tool roles.0.tools.0 6:71"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve tool "pyhton" of role "a": no tool has that name/,
  );
  assert.match(r.diagnostics[0]!.hint!, /did you mean "python"\?/);
});

Deno.test("unknown_tools: a declared tool compiles", async () => {
  const r = await compileYaml(spec("python"));
  assert.deepEqual(r.found, []);
});
