import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(schema: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a", `produces: [{ path: out.json, schema: ${schema} }]`),
    DATASET,
  ];
}

Deno.test("valid_json_schemas: an inline schema compiles with ajv", async () => {
  const r = await compileYaml(spec("{ type: strnig }"));
  assert.deepEqual(r.found, [
    "error invalid_json_schema roles.0.produces.0.schema 5:100",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot compile the JSON Schema for "out\.json": schema is invalid: data\/type must be/,
  );
});

Deno.test("valid_json_schemas: a schema file is readable JSON", async () => {
  const missing = await compileYaml(spec("s.json"));
  assert.deepEqual(missing.found, [
    "error invalid_json_schema roles.0.produces.0.schema 5:100",
  ]);
  assert.match(
    missing.diagnostics[0]!.message,
    /Cannot load JSON Schema ".*s\.json" for "out\.json"/,
  );
  const notJson = await compileYaml(spec("s.json"), { "s.json": "{ type" });
  assert.deepEqual(notJson.found, missing.found);
});

Deno.test("valid_json_schemas: a valid schema, inline or in a file, compiles and reaches the graph", async () => {
  assert.deepEqual((await compileYaml(spec("{ type: object }"))).found, []);
  const file = await compileYaml(spec("s.json"), {
    "s.json": '{ "type": "object" }',
  });
  assert.deepEqual(file.found, []);
});
