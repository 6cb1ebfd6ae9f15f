import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

Deno.test("flow_cycle: after edges that close a cycle are reported once, with the cycle printed", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a", "after: [c]"),
    role("b", "after: [a]"),
    role("c", "after: [b]"),
    DATASET,
  ]);
  assert.deepEqual(r.found, ["error flow_cycle roles.1.after.0 6:71"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot order roles: "after" edges form a cycle \w -> \w -> \w -> \w/,
  );
});

Deno.test("flow_cycle: a chain without the closing edge compiles", async () => {
  const r = await compileYaml([
    ...HEAD,
    "roles:",
    role("a"),
    role("b", "after: [a]"),
    role("c", "after: [b]"),
    DATASET,
  ]);
  assert.deepEqual(r.found, []);
});
