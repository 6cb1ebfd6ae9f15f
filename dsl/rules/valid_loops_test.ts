import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(loops: string[]): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a", "outputs: { done: { extract: final_text } }"),
    role("b", "after: [a]"),
    role("c", "after: [b], outputs: { done: { extract: final_text } }"),
    "flow:",
    "  loops:",
    ...loops,
    DATASET,
  ];
}

Deno.test("valid_loops: no outside role runs between two members of a loop", async () => {
  const r = await compileYaml(
    spec(["    - { id: l, roles: [a, c], max_rounds: 2 }"]),
  );
  assert.deepEqual(r.found, ["error invalid_loop flow.loops.0.roles 10:23"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot repeat loop "l" as a unit: role "b" runs after member "a" and before member "c" but is not in the loop/,
  );
});

Deno.test("valid_loops: a role joins one loop only, and until reads a member's output", async () => {
  const r = await compileYaml(spec([
    "    - { id: l, roles: [a, b, c], max_rounds: 2 }",
    "    - { id: m, roles: [c], max_rounds: 2, until: { output: a.done, matches: x } }",
  ]));
  assert.deepEqual(r.found, [
    "error invalid_loop flow.loops.1.roles.0 11:24",
    "error invalid_loop flow.loops.1.until.output 11:60",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot put role "c" in loop "m": it already belongs to loop "l"/,
  );
  assert.match(
    r.diagnostics[1]!.message,
    /Cannot stop loop "m" on role "a": it is not in the loop/,
  );
});

Deno.test("valid_loops: a loop of consecutive roles stopping on a member's output compiles", async () => {
  const r = await compileYaml(spec([
    "    - { id: l, roles: [a, b, c], max_rounds: 2, until: { output: c.done, matches: x } }",
  ]));
  assert.deepEqual(r.found, []);
});
