// deno-lint-ignore-file no-console
/**
 * What does the runtime itself cost? Runs a compiled pipeline through `runPipeline()` with a fake
 * in-process model (no HTTP) and a fake sandbox, so what is left is the runtime: prompt rendering,
 * reply parsing, workspace snapshots and diffs, contract checks, blobs and the validated run log.
 *
 *   deno run -A bench/runtime_bench.ts               # (a) 200 episodes x 5 actions; (b) 32 x 3 at 200 ms
 *   deno run -A bench/runtime_bench.ts 500 /some/dir # more episodes; run directories under /some/dir
 *
 * (a) overhead per action against a zero-latency model and a sandbox that returns ok at once (its own
 *     time is measured and subtracted), against a baseline loop that only calls the fake model;
 * (b) 32 episodes x 3 roles at concurrency 32 against a model with 200 ms latency: wall time over the
 *     ideal 3 x 200 ms. The jail's own cost is bench/sandbox_bench.ts.
 */
import { join } from "node:path";
import { compileFile, type ExecutionGraph } from "../dsl/mod.ts";
import type {
  ExecRequest,
  ExecResult,
  ModelClient,
  ModelRequest,
  ModelResponse,
  Sandbox,
} from "../runtime/ports.ts";
import { runPipeline } from "../runtime/run_pipeline.ts";

const EPISODES = Number(Deno.args[0] ?? 200);
const OUT_PARENT = Deno.args[1];
const LATENCY_MS = 200;
const WIDE_EPISODES = 32;
const WIDE_RUNS = 5;

/** Answers at once (or after `latencyMs`): code on a tool role's first turn, then a boxed answer. */
class FakeModel implements ModelClient {
  calls = 0;
  readonly #latencyMs: number;
  readonly #codeRoles: ReadonlySet<string>;

  constructor(latencyMs: number, codeRoles: readonly string[]) {
    this.#latencyMs = latencyMs;
    this.#codeRoles = new Set(codeRoles);
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    this.calls++;
    if (this.#latencyMs > 0) {
      await new Promise((r) => setTimeout(r, this.#latencyMs));
    }
    const text = this.#codeRoles.has(request.role) && request.turn === 1
      ? "I write the file.\n\n```python\nopen('out.txt', 'w').write('42')\nprint(42)\n```"
      : "The program printed 42, so the answer is \\boxed{42}.";
    return {
      ok: true,
      text,
      tool_calls: [],
      finish_reason: "stop",
      usage: { prompt_tokens: 100, completion_tokens: 20 },
      latency_ms: this.#latencyMs,
      cost_usd: null,
      attempts: 1,
      provider: "scripted",
      model_name: "fake",
    };
  }
}

/** Returns ok at once after writing one small file (the tool's effect), and times itself. */
class FakeSandbox implements Sandbox {
  readonly backend = "fake-v1";
  execs = 0;
  ms = 0;

  async exec(request: ExecRequest): Promise<ExecResult> {
    const t = performance.now();
    this.execs++;
    await Deno.writeTextFile(join(request.workspace, "out.txt"), "42");
    const capture = { text: "42\n", total_bytes: 3, truncated: false };
    const result: ExecResult = {
      status: "ok",
      exit_code: 0,
      signal: null,
      wall_ms: 0,
      stdout: capture,
      stderr: { text: "", total_bytes: 0, truncated: false },
      backend: this.backend,
      argv_hash: "fake",
    };
    this.ms += performance.now() - t;
    return result;
  }
}

function specYaml(name: string, maxTurns: number): string {
  const role = (id: string, after: string | null, tools: boolean) =>
    `  - id: ${id}
    description: Role ${id}
    model: actor
${after ? `    after: [${after}]\n` : ""}${
      tools
        ? `    tools: [python]\n    max_turns: ${maxTurns}\n    produces: [{ path: out.txt, required: true }]\n`
        : ""
    }    outputs: { answer: { extract: last_boxed } }
    prompts:
      user: |
        Problem: {{ task.problem }}
        Files: {{ files | join: ", " }}
        {% for h in handoffs %}{{ h.role }}: {{ h.final_text }}
        {% endfor %}`;
  return `version: 1
name: ${name}
models:
  actor: { model: fake, base_url: "http://127.0.0.1:9/v1" }
tools:
  python: { language: python }
roles:
${role("solver", null, true)}
${role("checker", "solver", true)}
${role("verifier", "checker", false)}
dataset:
  splits: { eval: ${name}_tasks.json }
  fields: { id: id, inputs: { problem: problem } }
`;
}

async function pipeline(
  dir: string,
  name: string,
  maxTurns: number,
  tasks: number,
): Promise<ExecutionGraph> {
  const spec = join(dir, `${name}.yaml`);
  await Deno.writeTextFile(spec, specYaml(name, maxTurns));
  const rows = Array.from({ length: tasks }, (_, i) => ({
    id: `t${i}`,
    problem: `What is ${i} + ${42 - i}? ${"Some context. ".repeat(40)}`,
  }));
  await Deno.writeTextFile(
    join(dir, `${name}_tasks.json`),
    JSON.stringify(rows),
  );
  const result = compileFile(spec);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.diagnostics.map((d) => d.message)));
  }
  return result.graph;
}

async function timedRun(
  graph: ExecutionGraph,
  model: FakeModel,
  sandbox: FakeSandbox,
  outDir: string,
  concurrency: number,
) {
  const t = performance.now();
  const summary = await runPipeline(graph, { model, sandbox }, {
    policy: "demo",
    outDir,
    concurrency,
    sandboxConcurrency: concurrency,
  });
  const wall = performance.now() - t;
  if (summary.episodes_done !== summary.episodes_total) {
    throw new Error(`episodes failed: ${JSON.stringify(summary)}`);
  }
  return { wall, actions: summary.actions };
}

/** (a) ms per action of the runtime, at concurrency 1 (latency) and 8 (throughput). */
async function overhead(dir: string): Promise<void> {
  const graph = await pipeline(dir, "overhead", 2, EPISODES);
  const codeRoles = ["solver", "checker"];
  // Warm-up: JIT, module loading, the file system's caches.
  await timedRun(
    await pipeline(dir, "warmup", 2, 20),
    new FakeModel(0, codeRoles),
    new FakeSandbox(),
    join(dir, "runs"),
    1,
  );
  console.log(
    `(a) overhead per action: ${EPISODES} episodes x 3 roles (2 + 2 + 1 actions), zero-latency model, fake sandbox`,
  );
  for (const concurrency of [1, 8]) {
    const model = new FakeModel(0, codeRoles);
    const sandbox = new FakeSandbox();
    const { wall, actions } = await timedRun(
      graph,
      model,
      sandbox,
      join(dir, "runs"),
      concurrency,
    );
    const runtimeMs = wall - sandbox.ms;
    // Baseline: only the model calls, the same number of them, with requests of the same shape.
    const baselineModel = new FakeModel(0, codeRoles);
    const roles = ["solver", "solver", "checker", "checker", "verifier"];
    const t = performance.now();
    for (let i = 0; i < model.calls; i++) {
      const role = roles[i % roles.length]!;
      await baselineModel.complete({
        model: "actor",
        role,
        episode: `eval:t${i}`,
        turn: i % 5 === 1 || i % 5 === 3 ? 2 : 1,
        messages: [{ role: "user", content: `Problem ${i}` }],
      });
    }
    const baselineMs = performance.now() - t;
    console.log(
      `  concurrency ${concurrency}: ${actions} actions, ${sandbox.execs} executions in ${
        wall.toFixed(0)
      } ms (sandbox ${sandbox.ms.toFixed(0)} ms excluded): ${
        (runtimeMs / actions).toFixed(2)
      } ms/action; baseline ${model.calls} model calls ${
        baselineMs.toFixed(1)
      } ms (${(baselineMs / model.calls * 1000).toFixed(1)} µs/call); ratio ${
        (runtimeMs / baselineMs).toFixed(0)
      }x`,
    );
  }
}

/** (b) 32 episodes x 3 roles, one 200 ms call (and one instant execution) per role, concurrency 32. */
async function latencyBound(dir: string): Promise<void> {
  const graph = await pipeline(dir, "wide", 1, WIDE_EPISODES);
  console.log(
    `(b) ${WIDE_EPISODES} episodes x 3 roles at concurrency ${WIDE_EPISODES}, model latency ${LATENCY_MS} ms, ${WIDE_RUNS} runs`,
  );
  const ratios: number[] = [];
  for (let i = 0; i < WIDE_RUNS; i++) {
    const model = new FakeModel(LATENCY_MS, ["solver", "checker"]);
    const sandbox = new FakeSandbox();
    const { wall, actions } = await timedRun(
      graph,
      model,
      sandbox,
      join(dir, "runs"),
      WIDE_EPISODES,
    );
    // Ideal: three sequential model calls per episode, all episodes at once, the sandbox's own time.
    const ideal = 3 * LATENCY_MS + sandbox.ms / WIDE_EPISODES;
    ratios.push(wall / ideal);
    console.log(
      `  ${actions} actions in ${wall.toFixed(0)} ms; ideal ${
        ideal.toFixed(0)
      } ms; ratio ${(wall / ideal).toFixed(3)}x`,
    );
  }
  ratios.sort((a, b) => a - b);
  console.log(
    `  median ratio ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)}x`,
  );
}

const dir = await Deno.makeTempDir({
  prefix: "mappa-runtime-bench-",
  ...(OUT_PARENT !== undefined ? { dir: OUT_PARENT } : {}),
});
console.log(
  `runtime_bench: Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, run directories in ${dir}`,
);
try {
  await overhead(dir);
  await latencyBound(dir);
} finally {
  await Deno.remove(dir, { recursive: true });
}
