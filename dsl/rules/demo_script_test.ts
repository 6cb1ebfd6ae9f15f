import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

const SPEC = [...HEAD, "roles:", role("a"), DATASET, "demo: demo/relay.yaml"];

Deno.test("demo_script: a demo policy that does not exist is reported at demo", async () => {
  const r = await compileYaml(SPEC);
  assert.deepEqual(r.found, ["error file_not_found demo 7:7"]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot find the demo policy ".*demo\/relay\.yaml": no such file/,
  );
});

Deno.test("demo_script: a demo policy that is a directory is reported", async () => {
  const r = await compileYaml(SPEC, { "demo/relay.yaml/x": "" });
  assert.deepEqual(r.found, ["error file_is_directory demo 7:7"]);
  assert.match(r.diagnostics[0]!.message, /it is a directory/);
});

Deno.test("demo_script: an existing demo script compiles", async () => {
  const r = await compileYaml(SPEC, { "demo/relay.yaml": "a: [hi]\n" });
  assert.deepEqual(r.found, []);
});
