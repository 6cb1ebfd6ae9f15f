import assert from "node:assert/strict";
import { compileYaml, HEAD, role } from "../../tests/fixtures/compile_yaml.ts";

function spec(rollout: string): string[] {
  return [
    ...HEAD,
    "roles:",
    role("a"),
    'dataset: { splits: { train: "https://x/t.jsonl" }, fields: { inputs: {} } }',
    "train:",
    `  rollout: { engine: vllm, ${rollout} }`,
  ];
}

Deno.test("rollout_engine: vllm needs http(s) engine URLs, each once, and an adapter_dir", async () => {
  const r = await compileYaml(
    spec("urls: [ftp://gpu:8000, http://gpu:8000, http://gpu:8000/v1]"),
  );
  assert.deepEqual(r.found, [
    "error missing_key train.rollout 8:12",
    "error invalid_format train.rollout.urls.0 8:35",
    "error invalid_value train.rollout.urls.2 8:68",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /train\.rollout\.adapter_dir is not set/,
  );
  assert.match(
    r.diagnostics[1]!.message,
    /Cannot use engine URL "ftp:\/\/gpu:8000": it is not an http:\/\/ or https:\/\/ URL/,
  );
  assert.match(r.diagnostics[2]!.message, /twice: it is listed already/);
  const empty = await compileYaml(spec("urls: [], adapter_dir: /tmp/a"));
  assert.deepEqual(empty.found, ["error too_small train.rollout.urls 8:34"]);
});

Deno.test("rollout_engine: distinct http URLs with an adapter_dir compile", async () => {
  const r = await compileYaml(
    spec("urls: [http://gpu:8000, http://gpu:8001], adapter_dir: /tmp/a"),
  );
  assert.deepEqual(r.found, []);
});
