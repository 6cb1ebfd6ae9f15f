import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(loop: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    role("b", "after: [a]"),
    "flow:",
    "  loops:",
    `    - { id: l, roles: [a, b]${loop} }`,
    DATASET,
  ];
}

Deno.test("unbounded_loops: a loop without max_rounds is reported at the loop", async () => {
  const r = await compileYaml(spec(""));
  assert.deepEqual(r.found, ["error unbounded_loop flow.loops.0 9:7"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot run loop "l" without a bound: it has no max_rounds/,
  );
});

Deno.test("unbounded_loops: a loop with max_rounds compiles", async () => {
  const r = await compileYaml(spec(", max_rounds: 2"));
  assert.deepEqual(r.found, []);
});
