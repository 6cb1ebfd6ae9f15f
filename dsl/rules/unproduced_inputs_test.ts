import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(checkerAfter: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    role("p", "produces: [plan.md]"),
    role("c", `after: [${checkerAfter}], consumes: ['*.md']`),
    DATASET,
  ];
}

Deno.test("unproduced_inputs: a consumed file must come from an upstream role or the task", async () => {
  const r = await compileYaml(spec("a"));
  assert.deepEqual(r.found, ["error unproduced_input roles.2.consumes.0 7:86"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve input "\*\.md" of role "c": no upstream role produces it and no task file provides it/,
  );
  assert.match(r.diagnostics[0]!.hint!, /declare role "c" after: \[p\]/);
  assert.equal(r.diagnostics[0]!.related?.[0]?.position?.line, 6);
});

Deno.test("unproduced_inputs: a file produced upstream (matched by a glob) compiles", async () => {
  const r = await compileYaml(spec("p"));
  assert.deepEqual(r.found, []);
});
