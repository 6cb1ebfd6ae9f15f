// deno-lint-ignore-file no-console
/**
 * What does the runtime itself cost? Runs a compiled pipeline through `runPipeline()` with a fake sandbox,
 * and a fake model either in-process or behind a loopback HTTP server on its own thread.
 *
 *   deno run -A bench/runtime_bench.ts               # (a), (b) and (c)
 *   deno run -A bench/runtime_bench.ts 500 /some/dir # (a) with more episodes; run directories under /some/dir
 *   deno run -A bench/runtime_bench.ts --only=b      # only (b) (any of a, b, c)
 *
 * (a) overhead per action against a zero-latency in-process model and a sandbox that returns ok at once
 *     (its own time is measured and subtracted), against a baseline loop that only calls the fake model;
 * (b) latency-bound runs with the defaults a user gets (no `max_concurrency` in the spec, the openai SDK,
 *     a server answering after 200 ms): 32 episodes x 3 roles at --concurrency 32 (aim <= 1.2x) and 256
 *     at --concurrency 64 (aim <= 1.3x), wall time over the critical path ceil(episodes / concurrency) x
 *     3 x 200 ms;
 * (c) the 32-episode case of (b) with the in-process model: the runtime's own share of (b).
 * The jail's own cost is bench/sandbox_bench.ts.
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
import { createModelClient } from "../runtime/llm/create_model_client.ts";

const ONLY = Deno.args.find((a) => a.startsWith("--only="))?.slice(7);
const POSITIONAL = Deno.args.filter((a) => !a.startsWith("--"));
const EPISODES = Number(POSITIONAL[0] ?? 200);
const OUT_PARENT = POSITIONAL[1];
const LATENCY_MS = 200;
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

function specYaml(name: string, maxTurns: number, baseUrl: string): string {
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
        You are ${id}. Problem: {{ task.problem }}
        Files: {{ files | join: ", " }}
        {% for h in handoffs %}{{ h.role }}: {{ h.final_text }}
        {% endfor %}`;
  return `version: 1
name: ${name}
models:
  actor: { model: fake, base_url: "${baseUrl}" }
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
  baseUrl = "http://127.0.0.1:9/v1",
): Promise<ExecutionGraph> {
  const spec = join(dir, `${name}.yaml`);
  await Deno.writeTextFile(spec, specYaml(name, maxTurns, baseUrl));
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

/** One run; `sandboxConcurrency` undefined keeps the runtime's default. */
async function timedRun(
  graph: ExecutionGraph,
  model: ModelClient,
  sandbox: FakeSandbox,
  outDir: string,
  concurrency: number,
  sandboxConcurrency: number | undefined = concurrency,
) {
  const t = performance.now();
  const summary = await runPipeline(graph, { model, sandbox }, {
    policy: "demo",
    outDir,
    concurrency,
    ...(sandboxConcurrency !== undefined ? { sandboxConcurrency } : {}),
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

/** A latency-bound case: `episodes` x 3 roles at `concurrency`, one 200 ms model call per role. */
interface LatencyCase {
  readonly episodes: number;
  readonly concurrency: number;
  readonly runs: number;
  /** The issue's target ratio (docs: bench/README.md). */
  readonly aim: number;
}

const LATENCY_CASES: readonly LatencyCase[] = [
  { episodes: 32, concurrency: 32, runs: 5, aim: 1.2 },
  { episodes: 256, concurrency: 64, runs: 3, aim: 1.3 },
];

/** The loopback model server of bench/_latency_server_worker.ts, on its own thread. */
class LatencyServer implements AsyncDisposable {
  readonly url: string;
  readonly #worker: Worker;

  private constructor(worker: Worker, url: string) {
    this.#worker = worker;
    this.url = url;
  }

  static async start(latencyMs: number): Promise<LatencyServer> {
    const worker = new Worker(
      new URL("./_latency_server_worker.ts", import.meta.url),
      { type: "module" },
    );
    const url = await new Promise<string>((resolve) => {
      worker.onmessage = (e) => resolve((e.data as { url: string }).url);
      worker.postMessage({ latencyMs });
    });
    return new LatencyServer(worker, url);
  }

  stats(): Promise<{ requests: number; peak: number }> {
    return new Promise((resolve) => {
      this.#worker.onmessage = (e) => resolve(e.data);
      this.#worker.postMessage("stats");
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise((resolve) => {
      this.#worker.onmessage = resolve;
      this.#worker.postMessage("close");
    });
    this.#worker.terminate();
  }
}

/**
 * (b) latency-bound runs with the defaults a user gets: the spec's model has no `max_concurrency`, every
 * call goes through `createModelClient` (the openai SDK) to a loopback server answering after 200 ms,
 * only `--concurrency` is set. Critical path: each worker of the episode pool runs ceil(episodes /
 * concurrency) episodes one after another, each three sequential calls, so ideal = ceil(episodes /
 * concurrency) x 3 x 200 ms (+ the fake sandbox's own time on that path).
 */
async function latencyBound(dir: string): Promise<void> {
  await using server = await LatencyServer.start(LATENCY_MS);
  // Warm-up: JIT, the SDK's first connections, the file system's caches.
  const warm = await pipeline(dir, "warm", 1, 32, server.url);
  await timedRun(
    warm,
    await createModelClient(warm.models, { env: () => undefined }),
    new FakeSandbox(),
    join(dir, "runs"),
    32,
    undefined,
  );
  for (const c of LATENCY_CASES) {
    const graph = await pipeline(
      dir,
      `wide${c.episodes}`,
      1,
      c.episodes,
      server.url,
    );
    const waves = Math.ceil(c.episodes / c.concurrency);
    console.log(
      `(b) ${c.episodes} episodes x 3 roles at --concurrency ${c.concurrency}, default model settings, ` +
        `${LATENCY_MS} ms server latency, ${c.runs} runs; ideal = ceil(${c.episodes}/${c.concurrency}) x 3 x ${LATENCY_MS} ms = ${
          waves * 3 * LATENCY_MS
        } ms`,
    );
    const ratios: number[] = [];
    for (let i = 0; i < c.runs; i++) {
      const model = await createModelClient(graph.models, {
        env: () => undefined,
      });
      const sandbox = new FakeSandbox();
      const before = (await server.stats()).requests;
      const { wall, actions } = await timedRun(
        graph,
        model,
        sandbox,
        join(dir, "runs"),
        c.concurrency,
        undefined,
      );
      const ideal = waves * (3 * LATENCY_MS + sandbox.ms / c.episodes);
      ratios.push(wall / ideal);
      console.log(
        `  ${actions} actions (${
          (await server.stats()).requests - before
        } requests) in ${wall.toFixed(0)} ms; ideal ${
          ideal.toFixed(0)
        } ms; ratio ${(wall / ideal).toFixed(3)}x`,
      );
    }
    ratios.sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)]!;
    console.log(
      `  median ratio ${median.toFixed(3)}x (aim <= ${c.aim}x${
        median <= c.aim ? ", met" : ", MISSED"
      }); peak requests in flight ${(await server.stats()).peak}`,
    );
  }
}

/** (c) the same 32-episode case with an in-process model (no HTTP): the runtime's own share of (b). */
async function latencyBoundInProcess(dir: string): Promise<void> {
  const episodes = 32;
  const graph = await pipeline(dir, "inproc", 1, episodes);
  console.log(
    `(c) ${episodes} episodes x 3 roles at concurrency ${episodes}, in-process model with ${LATENCY_MS} ms latency, ${WIDE_RUNS} runs`,
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
      episodes,
    );
    const ideal = 3 * LATENCY_MS + sandbox.ms / episodes;
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
  if (ONLY === undefined || ONLY.includes("a")) await overhead(dir);
  if (ONLY === undefined || ONLY.includes("b")) await latencyBound(dir);
  if (ONLY === undefined || ONLY.includes("c")) {
    await latencyBoundInProcess(dir);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
