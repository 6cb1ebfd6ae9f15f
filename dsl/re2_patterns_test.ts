import assert from "node:assert/strict";
import { compile } from "./mod.ts";

Deno.test("a spec pattern RE2 cannot run (lookaround, backreference) is refused where it is written", () => {
  for (
    const [pattern, why] of [["(?=a)b", /invalid perl operator/], [
      "(a)\\1",
      /escape/,
    ]] as const
  ) {
    const result = compileSpecText(pattern);
    assert.equal(result.ok, false, pattern);
    const d = !result.ok
      ? result.diagnostics.find((x) => x.code === "invalid_regex")
      : undefined;
    assert.deepEqual(d?.path, ["roles", 0, "stop_pattern"]);
    assert.match(
      d?.message ?? "",
      /on RE2, the linear-time engine mappa matches agent text with/,
    );
    assert.match(d?.message ?? "", why);
  }
  assert.ok(compileSpecText("^DONE\\b").ok);
});

function compileSpecText(pattern: string) {
  return compile(
    `version: 1
name: re2
models: { m: { model: x } }
roles:
  - { id: a, description: d, model: m, prompts: { user: hi }, stop_pattern: '${pattern}' }
dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }
`,
    { file: "re2.yaml" },
  );
}
