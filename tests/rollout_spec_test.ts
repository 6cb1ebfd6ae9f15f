import assert from "node:assert/strict";
import { compile, type CompileResult } from "../dsl/mod.ts";

// train.rollout in a spec: its defaults, and the rollout_engine rule's diagnostics (codes and positions).

// Line N of a spec is element N - 1.
const SPEC = [
  "version: 1",
  "name: demo",
  "models:",
  "  actor: { model: demo-model }",
  "roles:",
  "  - id: solver",
  "    description: Solves the problem",
  "    model: actor",
  "    prompts:",
  '      user: "Solve: {{ task.problem }}"',
  "dataset:",
  "  splits:",
  "    train: https://example.com/train.jsonl",
  "  fields:",
  "    inputs:",
  "      problem: question",
  "train:",
];

function run(rollout: readonly string[]): CompileResult {
  return compile([...SPEC, ...rollout].join("\n") + "\n", {
    file: "case.yaml",
    readFile: () => {
      throw new Deno.errors.NotFound("no files");
    },
    fileExists: () => false,
  });
}

function where(result: CompileResult) {
  assert(!result.ok, "expected diagnostics");
  return result.diagnostics.map((d) => ({
    code: d.code,
    line: d.position?.line,
    column: d.position?.column,
    path: d.path.join("."),
  }));
}

Deno.test("compile() gives train.rollout the trainer engine by default", () => {
  const result = run(["  steps: 2"]);
  assert(result.ok);
  assert.deepEqual(result.graph.train!.rollout, {
    engine: "trainer",
    urls: [],
    max_staleness: 0,
    probe_tolerance: 0.05,
  });
});

Deno.test("compile() accepts a vllm rollout with engines and an adapter_dir", () => {
  const result = run([
    "  rollout:",
    "    engine: vllm",
    "    urls: [http://gpu-a:8000, http://gpu-b:8000/v1]",
    "    adapter_dir: /mnt/shared/adapters",
    "    max_staleness: 1",
  ]);
  assert(result.ok, result.ok ? "" : result.diagnostics[0]!.message);
  assert.equal(result.graph.train!.rollout.max_staleness, 1);
});

Deno.test("compile() reports a vllm rollout with no engine and no adapter_dir at train.rollout", () => {
  const result = run(["  rollout:", "    engine: vllm"]);
  assert.deepEqual(where(result), [
    { code: "missing_key", line: 19, column: 5, path: "train.rollout" },
    { code: "too_small", line: 19, column: 5, path: "train.rollout.urls" },
  ]);
  assert(!result.ok);
  assert.deepEqual(result.diagnostics.map((d) => d.message), [
    "Cannot deliver adapters to vLLM: train.rollout.adapter_dir is not set",
    "Cannot send rollouts to vLLM: train.rollout.urls lists no engine",
  ]);
});

Deno.test("compile() reports an engine URL that is not http(s), and one listed twice, at the URL", () => {
  const result = run([
    "  rollout:",
    "    engine: vllm",
    "    adapter_dir: adapters",
    "    urls:",
    "      - ftp://gpu-a:8000",
    "      - http://gpu-b:8000",
    "      - http://gpu-b:8000/",
  ]);
  assert.deepEqual(where(result), [
    {
      code: "invalid_format",
      line: 22,
      column: 9,
      path: "train.rollout.urls.0",
    },
    {
      code: "invalid_value",
      line: 24,
      column: 9,
      path: "train.rollout.urls.2",
    },
  ]);
});
