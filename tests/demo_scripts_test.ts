import assert from "node:assert/strict";
import { compileFile, compileModule, type CompileResult } from "../dsl/mod.ts";
import { loadModelScript } from "../runtime/mod.ts";

Deno.test("every shipped pipeline's demo policy loads and answers each of its roles", async () => {
  let checked = 0;
  for await (const entry of Deno.readDir("pipelines")) {
    if (!entry.isFile || !/\.(yaml|ts)$/.test(entry.name)) continue;
    const path = `pipelines/${entry.name}`;
    const result: CompileResult = path.endsWith(".ts")
      ? await compileModule(path)
      : compileFile(path);
    assert.ok(result.ok, path);
    const demo = result.graph.demo;
    if (demo === undefined) continue;
    const script = await loadModelScript(demo);
    for (const role of result.graph.roles) {
      const replies = script.roles[role.id] ?? script.default;
      assert.ok(
        replies && replies.length > 0,
        `${demo} has no reply for role "${role.id}" of ${path}`,
      );
    }
    checked++;
  }
  assert.ok(
    checked >= 3,
    `expected the math, dsbench and debate demos, checked ${checked}`,
  );
});
