import assert from "node:assert/strict";
import { pipelineJsonSchema, rubricJsonSchema } from "../dsl/mod.ts";

/** Every property name anywhere in a JSON Schema. */
function propertyNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => propertyNames(n, out));
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "properties") {
        for (const name of Object.keys(v as object)) out.add(name);
      }
      propertyNames(v, out);
    }
  }
  return out;
}

Deno.test("the README's spec reference documents every key of the spec and rubric schemas", async () => {
  const readme = await Deno.readTextFile("README.md");
  const reference = readme.slice(readme.indexOf("## Spec reference"));
  const keys = new Set([
    ...propertyNames(pipelineJsonSchema()),
    ...propertyNames(rubricJsonSchema()),
  ]);
  keys.delete("$schema");
  const missing = [...keys].filter((k) =>
    !new RegExp(`(^|[\\s{\`,(\\[])${k.replace("$", "\\$")}(:|\`)`, "m").test(
      reference,
    )
  );
  assert.deepEqual(
    missing,
    [],
    `README.md "Spec reference" does not document: ${missing.join(", ")}`,
  );
});

Deno.test("the README's quick start has exactly the two commands after installing Deno", async () => {
  const readme = await Deno.readTextFile("README.md");
  const quick = readme.slice(
    readme.indexOf("## Quick start"),
    readme.indexOf("Other commands"),
  );
  const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? "";
  assert.deepEqual(block.trim().split("\n"), [
    "deno task run pipelines/math.yaml",
    "deno task test",
  ]);
  assert.match(quick, /npm install -g deno@2\.9\.6/);
});
