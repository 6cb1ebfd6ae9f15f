/**
 * End-to-end tests of the runtime: real bubblewrap sandbox, real HTTP through the openai SDK against the
 * loopback server of tests/fakes/openai_server.ts, and the `run` command as a subprocess.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, type ExecutionGraph } from "../dsl/mod.ts";
import {
  type ActionEvent,
  type RunEvent,
  RunEventSchema,
} from "../runtime/events.ts";
import { resolveActionRefs } from "../runtime/action_history.ts";
import { createModelClient } from "../runtime/llm/create_model_client.ts";
import { type RunOptions, runPipeline } from "../runtime/run_pipeline.ts";
import type { RunSummary } from "../runtime/run_summary.ts";
import { BwrapSandbox } from "../runtime/sandbox/bwrap_sandbox.ts";
import {
  type FakeAction,
  type FakeOpenAIServer,
  type RecordedRequest,
  startOpenAIServer,
} from "./fakes/openai_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "cli.ts");
// Fails (never skips) when bubblewrap is missing, as the sandbox tests do.
const sandbox = await BwrapSandbox.create();
const KEY_ENV = "MAPPA_E2E_API_KEY";
const API_KEY = `sk-e2e-${crypto.randomUUID()}`;
Deno.env.set(KEY_ENV, API_KEY);
const FAST_RETRY = { initialDelayMs: 20, jitter: 0 } as const;

interface Fixture extends AsyncDisposable {
  readonly dir: string;
  readonly specPath: string;
  readonly graph: ExecutionGraph;
}

/** A spec file and its tasks.json in a fresh directory, compiled. */
async function fixture(yaml: string, tasks: unknown[]): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-e2e-" });
  const specPath = join(dir, "spec.yaml");
  await Deno.writeTextFile(specPath, yaml);
  await Deno.writeTextFile(join(dir, "tasks.json"), JSON.stringify(tasks));
  const result = compileFile(specPath);
  if (!result.ok) {
    assert.fail(
      `the test spec does not compile: ${
        JSON.stringify(result.diagnostics.map((d) => [d.code, d.message]))
      }`,
    );
  }
  return {
    dir,
    specPath,
    graph: result.graph,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The `models:` block: one model `actor` on the fake server, key read from KEY_ENV. */
function modelsYaml(url: string, extra: Record<string, unknown> = {}) {
  const lines = Object.entries({
    model: "fake-model",
    base_url: url,
    api_key_env: KEY_ENV,
    max_retries: 2,
    timeout_s: 5,
    ...extra,
  }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return `models:\n  actor:\n${lines.join("\n")}\n`;
}

const DATASET_YAML = `dataset:
  splits: { eval: tasks.json }
  fields: { id: id, inputs: {} }
`;

/** Who a request is for: every test prompt starts with "ROLE <id> TASK <id>". */
function who(request: RecordedRequest) {
  const messages = (request.body as { messages: { content: string }[] })
    .messages;
  const m = /^ROLE (\w+) TASK (\w+)/.exec(messages[0]?.content ?? "");
  assert.ok(m, `unexpected request: ${request.raw_body.slice(0, 200)}`);
  return {
    role: m[1]!,
    task: m[2]!,
    messages,
    turn: messages.filter((x) => (x as { role?: string }).role === "assistant")
      .length + 1,
  };
}

function reply(text: string): FakeAction {
  return { kind: "reply", reply: { text } };
}

function python(code: string): string {
  return "```python\n" + code + "\n```";
}

/** The events as written: actions may reference earlier actions' messages. */
async function readRawEvents(runDir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(runDir, "events.jsonl"));
  assert.ok(text.endsWith("\n"), "events.jsonl ends with a whole line");
  return text.trimEnd().split("\n").map((line, i) => {
    const parsed = RunEventSchema.safeParse(JSON.parse(line));
    assert.ok(parsed.success, `line ${i + 1} is not a valid event: ${line}`);
    return parsed.data;
  });
}

/** The events with every action's full messages, as readers see them. */
async function readEvents(runDir: string): Promise<RunEvent[]> {
  return resolveActionRefs(await readRawEvents(runDir));
}

async function readManifest(runDir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(runDir, "manifest.json")));
}

function actionsOf(events: readonly RunEvent[], episode?: string) {
  return events.filter((e): e is ActionEvent =>
    e.kind === "action" && (episode === undefined || e.episode_id === episode)
  );
}

function ofKind<K extends RunEvent["kind"]>(
  events: readonly RunEvent[],
  kind: K,
  episode?: string,
): Extract<RunEvent, { kind: K }>[] {
  return events.filter((e) =>
    e.kind === kind &&
    (episode === undefined ||
      (e as { episode_id?: string }).episode_id === episode)
  ) as Extract<RunEvent, { kind: K }>[];
}

/** Runs a fixture in-process on the bwrap sandbox with the openai client, and reads back its run. */
async function runFixture(
  fx: Fixture,
  options: Partial<RunOptions> = {},
): Promise<{ summary: RunSummary; events: RunEvent[]; runDir: string }> {
  const model = await createModelClient(fx.graph.models, {
    retry: FAST_RETRY,
  });
  const summary = await runPipeline(fx.graph, { model, sandbox }, {
    policy: "model",
    outDir: join(fx.dir, "runs"),
    ...options,
  });
  const events = await readEvents(summary.run_dir);
  return { summary, events, runDir: summary.run_dir };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}

async function withServer<T>(
  server: Promise<FakeOpenAIServer>,
  fn: (server: FakeOpenAIServer) => Promise<T>,
): Promise<T> {
  const s = await server;
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cliCommand(args: string[], env: Record<string, string> = {}) {
  // The child gets no MAPPA_* variables of ours but those given, so the demo-policy case is offline.
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !k.startsWith("MAPPA_")
    ),
  );
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...base, [KEY_ENV]: API_KEY, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await cliCommand(args, env).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

async function onlyRunDir(outDir: string): Promise<string | undefined> {
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isDirectory) return join(outDir, entry.name);
  }
  return undefined;
}

/** Polls events.jsonl under `outDir` until `ready` holds for its complete lines. */
async function waitForEvents(
  outDir: string,
  ready: (events: Record<string, unknown>[]) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const runDir = await onlyRunDir(outDir).catch(() => undefined);
    if (runDir !== undefined) {
      const text = await Deno.readTextFile(join(runDir, "events.jsonl"))
        .catch(() => "");
      const lines = text.split("\n").slice(0, -1).map((l) => JSON.parse(l));
      if (ready(lines)) return runDir;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`events.jsonl under ${outDir} never got ready`);
}

const WRITER_CODE = [
  "import pandas as pd",
  "df = pd.DataFrame({'x': [1, 2, 3, 4], 'y': [10, 20, 30, 40]})",
  "df.to_pickle('frame.pkl')",
  "print('rows', len(df))",
  // 20 KB of comment: the run log keeps the reply and the code in full, never truncated.
  "# " + "padding ".repeat(2_500),
].join("\n");

const READER_CODE = [
  "import json",
  "import pandas as pd",
  "df = pd.read_pickle('frame.pkl')",
  "total = int((df.x * df.y).sum())",
  "print('TOTAL', total)",
  "json.dump({'total': str(total)}, open('summary.json', 'w'))",
].join("\n");

const READER_FIX = [
  "import json",
  "s = json.load(open('summary.json'))",
  "s['total'] = int(s['total'])",
  "json.dump(s, open('summary.json', 'w'))",
  "print('TOTAL', s['total'])",
].join("\n");

Deno.test("runPipeline() passes a pandas pickle through the workspace of a three-role pipeline and records every action exactly", async () => {
  const replies: string[] = [];
  await withServer(
    startOpenAIServer({
      respond: (request, index) => {
        const { role, turn } = who(request);
        const text = role === "writer"
          ? turn === 1
            ? `I build the frame.\n\n${python(WRITER_CODE)}`
            : "frame.pkl is saved."
          : role === "reader"
          ? turn === 1
            ? `I read the frame.\n${python(READER_CODE)}`
            : turn === 2
            ? `The total must be an integer.\n${python(READER_FIX)}`
            : "The total is 300."
          : "The reader computed it: \\boxed{300}";
        replies[index] = text;
        return reply(text);
      },
    }),
    async (server) => {
      await using fx = await fixture(
        `version: 1
name: e2e_files
${modelsYaml(server.url)}
tools:
  python: { language: python, timeout_s: 60 }
roles:
  - id: writer
    description: Writes frame.pkl with pandas
    model: actor
    tools: [python]
    max_turns: 2
    produces: [{ path: frame.pkl, required: true }]
    prompts: { user: "ROLE writer TASK {{ task.id }}: build a frame of {{ task.rows }} rows" }
  - id: reader
    description: Reads frame.pkl and writes summary.json
    model: actor
    after: [writer]
    tools: [python]
    max_turns: 3
    consumes: [frame.pkl]
    produces:
      - path: summary.json
        required: true
        schema: { type: object, required: [total], properties: { total: { type: integer } } }
    prompts: { user: "ROLE reader TASK {{ task.id }}. Files: {{ files | join: ', ' }}. Missing: {{ missing_inputs | join: ', ' }}." }
  - id: answerer
    description: Gives the answer
    model: actor
    after: [reader]
    sees: { reader: [final_text, last_tool_output] }
    outputs: { answer: { extract: last_boxed } }
    prompts: { user: "ROLE answerer TASK {{ task.id }}. Reader: {{ upstream.reader.final_text }} Output: {{ upstream.reader.last_tool_output }}" }
dataset:
  splits: { eval: tasks.json }
  fields: { id: id, inputs: { rows: rows } }
`,
        [{ id: "a", rows: 4 }],
      );
      const { summary, events, runDir } = await runFixture(fx);
      assert.equal(summary.status, "completed");
      assert.equal(summary.episodes_done, 1);
      assert.equal(summary.model_errors, 0);
      assert.equal(summary.contract_violations, 0);

      // The run log: numbered lines, framed by run_started and run_finished.
      assert.deepEqual(events.map((e) => e.step), events.map((_, i) => i));
      assert.equal(events[0]?.kind, "run_started");
      assert.deepEqual(events.at(-1), {
        ...events.at(-1),
        kind: "run_finished",
        status: "completed",
        episodes: 1,
      });

      // Every action holds exactly the messages the server received and the reply it sent.
      const actions = actionsOf(events);
      assert.deepEqual(
        actions.map((a) => [a.role, a.turn, a.action_index, a.stop_reason]),
        [
          ["writer", 1, 0, "continue"],
          ["writer", 2, 1, "no_tool_call"],
          ["reader", 1, 2, "continue"],
          ["reader", 2, 3, "continue"],
          ["reader", 3, 4, "no_tool_call"],
          ["answerer", 1, 5, "no_tool_call"],
        ],
      );
      assert.equal(server.requests.length, actions.length);
      for (const [i, a] of actions.entries()) {
        const body = server.requests[i]!.body as {
          model: string;
          messages: unknown;
        };
        assert.deepEqual(a.messages, body.messages, `messages of action ${i}`);
        assert.equal(body.model, "fake-model");
        assert.deepEqual(a.reply, { role: "assistant", content: replies[i] });
        assert.deepEqual(a.model_call, {
          ok: true,
          provider: "openai",
          model: "actor",
          model_name: "fake-model",
          finish_reason: "stop",
          usage: { prompt_tokens: 10, completion_tokens: 5 },
          latency_ms: a.model_call.latency_ms,
          cost_usd: null,
          attempts: 1,
        });
      }
      const [w1, w2, r1, r2, r3, ans] = actions as [
        ActionEvent,
        ActionEvent,
        ActionEvent,
        ActionEvent,
        ActionEvent,
        ActionEvent,
      ];
      assert.deepEqual(w1.messages, [{
        role: "user",
        content: "ROLE writer TASK a: build a frame of 4 rows",
      }]);
      assert.ok(replies[0]!.length > 20_000);
      assert.deepEqual(w2.messages.slice(0, 2), [
        w1.messages[0],
        { role: "assistant", content: replies[0] },
      ]);
      assert.equal(w2.messages[2]?.role, "user");
      assert.match(
        w2.messages[2]!.content,
        /^\[execution 1 \(python\): status ok, exit 0, \d+ ms\]\nstdout:\nrows 4\nfiles: created frame\.pkl \(\d+ bytes\)$/,
      );
      // As written, a later turn names the earlier action instead of repeating its 20 kB reply.
      const raw = actionsOf(await readRawEvents(summary.run_dir));
      assert.deepEqual(raw[1]!.messages_ref, { action: 0, count: 2 });
      assert.deepEqual(raw[1]!.messages, [w2.messages[2]]);
      assert.equal(raw[0]!.messages_ref, undefined);

      // The writer's execution: ok, its code in full, frame.pkl created and copied into blobs/.
      assert.equal(w1.executions.length, 1);
      const exec = w1.executions[0]!;
      assert.equal(exec.status, "ok", exec.stderr.text);
      assert.equal(exec.exit_code, 0);
      // bwrap-v1 with per-jail cgroups (+cg1, +cg2) or, where none can be written, rlimits (+rlimit).
      assert.match(exec.backend, /^bwrap-v1\+(cg1|cg2|rlimit)$/);
      assert.equal(exec.code, WRITER_CODE);
      assert.equal(exec.stdout.text, "rows 4\n");
      assert.equal(exec.files.length, 1);
      const pkl = exec.files[0]!;
      assert.deepEqual(pkl, {
        path: "frame.pkl",
        change: "created",
        kind: "file",
        size: pkl.size,
        sha256: pkl.sha256,
      });
      assert.match(pkl.sha256!, /^[0-9a-f]{64}$/);
      const blob = await Deno.readFile(
        join(runDir, "blobs", pkl.sha256!.slice(0, 2), pkl.sha256!),
      );
      assert.equal(await sha256Hex(blob), pkl.sha256);
      assert.equal(blob.length, pkl.size);
      assert.equal(blob[0], 0x80, "a pickle starts with the PROTO opcode");
      assert.deepEqual(w1.contract, {
        missing_required: [],
        missing_inputs: [],
        invalid: [],
      });

      // The reader loads the pickle, prints the value computed from it, and fixes an invalid summary.json.
      assert.equal(
        r1.messages[0]?.content,
        "ROLE reader TASK a. Files: frame.pkl. Missing: .",
      );
      const rx = r1.executions[0]!;
      assert.equal(rx.status, "ok", rx.stderr.text);
      assert.equal(rx.stdout.text, "TOTAL 300\n");
      assert.deepEqual(rx.files.map((f) => [f.path, f.change]), [[
        "summary.json",
        "created",
      ]]);
      assert.deepEqual(r1.contract.missing_inputs, []);
      assert.deepEqual(r1.contract.missing_required, []);
      assert.deepEqual(r1.contract.invalid.map((x) => x.path), [
        "summary.json",
      ]);
      assert.match(r1.contract.invalid[0]!.problems.join(), /\/total/);
      assert.equal(r2.executions[0]?.stdout.text, "TOTAL 300\n");
      assert.deepEqual(r2.executions[0]?.files.map((f) => [f.path, f.change]), [
        ["summary.json", "modified"],
      ]);
      assert.deepEqual(r2.contract.invalid, []);
      assert.deepEqual(r3.executions, []);

      // The answerer is handed the reader's last program output and extracts the boxed answer.
      assert.match(ans.messages[0]!.content, /Reader: The total is 300\./);
      assert.match(ans.messages[0]!.content, /stdout:\nTOTAL 300/);
      const roles = ofKind(events, "role_finished");
      assert.deepEqual(
        roles.map((r) => [r.role, r.actions, r.files_saved, r.outputs]),
        [
          ["writer", 2, ["frame.pkl"], {}],
          ["reader", 3, ["summary.json"], {}],
          ["answerer", 1, [], { answer: "300" }],
        ],
      );

      const [finished] = ofKind(events, "episode_finished");
      assert.equal(finished?.status, "completed");
      assert.equal(finished?.attempt, 1);
      assert.equal(finished?.actions, 6);
      assert.deepEqual(finished?.outputs.answerer, { answer: "300" });
      assert.equal(finished?.files["frame.pkl"], pkl.sha256);
      const summaryBlob = await Deno.readTextFile(
        join(
          runDir,
          "blobs",
          finished!.files["summary.json"]!.slice(0, 2),
          finished!.files["summary.json"]!,
        ),
      );
      assert.deepEqual(JSON.parse(summaryBlob), { total: 300 });

      const manifest = await readManifest(runDir);
      assert.equal(manifest.spec_hash, fx.graph.spec_hash);
      assert.equal(manifest.policy, "model");
      assert.match(
        String(manifest.sandbox_backend),
        /^bwrap-v1\+(cg1|cg2|rlimit)$/,
      );
      assert.equal(manifest.status, "completed");
      assert.equal(
        (manifest.graph as ExecutionGraph).spec_hash,
        fx.graph.spec_hash,
      );

      // The key went to the server, and nowhere into the run directory.
      assert.equal(
        server.requests[0]?.headers.authorization,
        `Bearer ${API_KEY}`,
      );
      const key = new TextEncoder().encode(API_KEY);
      let files = 0;
      for await (const path of walk(runDir)) {
        files++;
        const bytes = await Deno.readFile(path);
        assert.ok(!containsBytes(bytes, key), `${path} holds the API key`);
      }
      assert.ok(files >= 4);
    },
  );
});

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

const TWO_ROLES = `roles:
  - id: first
    description: Answers first
    model: actor
    prompts: { user: "ROLE first TASK {{ task.id }}" }
  - id: second
    description: Answers after the first
    model: actor
    after: [first]
    prompts: { user: "ROLE second TASK {{ task.id }}: first said {{ upstream.first.final_text }}" }
`;

Deno.test("runPipeline() records every fault of the model server and goes on with the episode", async () => {
  const counts = new Map<string, number>();
  const faults: Record<string, FakeAction> = {
    err500: { kind: "status", status: 500, message: "overloaded" },
    hang: { kind: "hang" },
    malformed: { kind: "malformed" },
    truncated: { kind: "truncated" },
    chunked: { kind: "truncated", framing: "chunked" },
    reset: { kind: "reset" },
  };
  await withServer(
    startOpenAIServer({
      respond: (request) => {
        const { role, task } = who(request);
        const key = `${task}/${role}`;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        if (role === "first" && task === "ok429" && n === 1) {
          return {
            kind: "status",
            status: 429,
            headers: { "retry-after": "1" },
          };
        }
        if (role === "first" && faults[task]) return faults[task];
        return reply(`${role} answers ${task}`);
      },
    }),
    async (server) => {
      const tasks = ["ok429", ...Object.keys(faults)];
      await using fx = await fixture(
        `version: 1\nname: e2e_faults\n${
          modelsYaml(server.url, { max_retries: 2, timeout_s: 0.5 })
        }${TWO_ROLES}${DATASET_YAML}`,
        tasks.map((id) => ({ id })),
      );
      const { summary, events } = await runFixture(fx, {
        concurrency: tasks.length,
      });
      assert.equal(summary.status, "completed");
      assert.equal(summary.episodes_done, tasks.length);
      assert.equal(summary.model_errors, Object.keys(faults).length);

      // 429 with Retry-After: 1 s: waited, then the retry succeeded.
      const [ok] = actionsOf(events, "eval:ok429");
      assert.equal(ok?.model_call.ok, true);
      assert.equal(ok?.model_call.attempts, 2);
      assert.equal(ok?.reply.content, "first answers ok429");
      const tries = server.requests.filter((r) => {
        const w = who(r);
        return w.task === "ok429" && w.role === "first";
      });
      assert.equal(tries.length, 2);
      assert.ok(tries[1]!.received_at - tries[0]!.received_at >= 950);

      // Persistent faults: max_retries (2) retries, then a recorded failure; the next role still runs.
      const expected: Record<string, RegExp> = {
        err500: /the last with http: HTTP 500: overloaded/,
        hang:
          /the last with timeout: no complete reply within timeout_s = 0\.5/,
        malformed: /the last with malformed: the body is not valid JSON/,
        truncated:
          /the last with malformed: the body could not be read in full/,
        chunked: /the last with malformed: the body could not be read in full/,
        reset: /the last with connection: the connection failed/,
      };
      for (const [task, message] of Object.entries(expected)) {
        const episode = `eval:${task}`;
        const [first, second] = actionsOf(events, episode);
        assert.equal(first?.role, "first");
        assert.equal(first.model_call.ok, false, task);
        assert.equal(first.model_call.attempts, 3, task);
        assert.equal(first.model_call.error?.kind, "exhausted", task);
        assert.match(first.model_call.error!.message, message);
        if (task === "err500") {
          assert.equal(first.model_call.error?.status, 500);
        }
        assert.equal(first.stop_reason, "model_error");
        assert.deepEqual(first.reply, { role: "assistant", content: "" });
        assert.equal(counts.get(`${task}/first`), 3, task);
        assert.equal(second?.role, "second");
        assert.equal(second.model_call.ok, true);
        assert.equal(
          second.messages[0]?.content,
          `ROLE second TASK ${task}: first said `,
        );
        const [done] = ofKind(events, "episode_finished", episode);
        assert.equal(done?.status, "completed", task);
        assert.deepEqual(
          ofKind(events, "role_finished", episode).map((r) => r.role),
          ["first", "second"],
        );
      }
    },
  );
});

Deno.test("runPipeline() keeps at most the model's max_concurrency requests in flight", async () => {
  await withServer(startOpenAIServer({ latency_ms: 100 }), async (server) => {
    await using fx = await fixture(
      `version: 1
name: e2e_concurrency
${modelsYaml(server.url, { max_concurrency: 2 })}
roles:
  - id: solo
    description: Answers
    model: actor
    prompts: { user: "ROLE solo TASK {{ task.id }}" }
${DATASET_YAML}`,
      Array.from({ length: 8 }, (_, i) => ({ id: `t${i}` })),
    );
    const { summary, events } = await runFixture(fx, { concurrency: 4 });
    assert.equal(summary.episodes_done, 8);
    assert.equal(server.requests.length, 8);
    assert.equal(server.maxInFlight, 2);
    // Four episodes were open at once: the scheduler's --concurrency, not the model's limit.
    let open = 0;
    let most = 0;
    for (const e of events) {
      if (e.kind === "episode_started") most = Math.max(most, ++open);
      if (e.kind === "episode_finished") open--;
    }
    assert.equal(most, 4);
    // The cap is said, not silently obeyed: the run could have kept 4 requests in flight.
    const started = events[0]!;
    assert.equal(started.kind, "run_started");
    assert.deepEqual(started.kind === "run_started" && started.capped_models, [
      { model: "actor", max_concurrency: 2, demand: 4, episodes: 4 },
    ]);
  });
});

Deno.test("runPipeline() lets a model without max_concurrency keep a request of every episode in flight", async () => {
  await withServer(startOpenAIServer({ latency_ms: 150 }), async (server) => {
    await using fx = await fixture(
      `version: 1
name: e2e_default_concurrency
${modelsYaml(server.url)}
roles:
  - id: first
    description: Answers
    model: actor
    prompts: { user: "ROLE first TASK {{ task.id }}" }
  - id: second
    description: Answers again
    model: actor
    after: [first]
    prompts: { user: "ROLE second TASK {{ task.id }}" }
${DATASET_YAML}`,
      Array.from({ length: 12 }, (_, i) => ({ id: `t${i}` })),
    );
    const { summary, events } = await runFixture(fx, { concurrency: 12 });
    assert.equal(summary.episodes_done, 12);
    assert.equal(server.requests.length, 24);
    // More than the old default of 8: the model follows --concurrency, and nothing caps it.
    assert.equal(server.maxInFlight, 12);
    const started = events[0]!;
    assert.equal(
      started.kind === "run_started" && started.capped_models,
      undefined,
    );
  });
});

Deno.test("runPipeline() records a forgotten required file as a contract violation and shows it downstream as missing_inputs", async () => {
  await withServer(
    startOpenAIServer({
      respond: (request) =>
        who(request).role === "maker"
          ? reply(
            python(
              "open('other.csv', 'w').write('a,b\\n1,2\\n')\nprint('saved')",
            ),
          )
          : reply("I cannot work without data.csv."),
    }),
    async (server) => {
      await using fx = await fixture(
        `version: 1
name: e2e_contract
${modelsYaml(server.url)}
tools:
  python: { language: python }
roles:
  - id: maker
    description: Must write data.csv
    model: actor
    tools: [python]
    produces: [{ path: data.csv, required: true }]
    prompts: { user: "ROLE maker TASK {{ task.id }}: write data.csv" }
  - id: user
    description: Reads data.csv
    model: actor
    after: [maker]
    consumes: [data.csv]
    prompts:
      user: "ROLE user TASK {{ task.id }}{% if missing_inputs.size > 0 %} MISSING: {{ missing_inputs | join: ', ' }}{% endif %}"
${DATASET_YAML}`,
        [{ id: "c" }],
      );
      const { summary, events } = await runFixture(fx);
      assert.equal(summary.contract_violations, 1);
      assert.equal(summary.episodes_done, 1);
      const [make, use] = actionsOf(events);
      assert.equal(make?.role, "maker");
      assert.equal(make.executions[0]?.status, "ok");
      assert.deepEqual(make.executions[0]?.files.map((f) => f.path), [
        "other.csv",
      ]);
      assert.deepEqual(make.contract.missing_required, ["data.csv"]);
      assert.equal(make.stop_reason, "max_turns");
      const roles = ofKind(events, "role_finished");
      assert.deepEqual(roles[0]?.contract, {
        missing_required: ["data.csv"],
        missing_inputs: [],
        invalid: [],
      });
      assert.equal(use?.role, "user");
      assert.deepEqual(use.contract.missing_inputs, ["data.csv"]);
      assert.deepEqual(roles[1]?.contract.missing_inputs, ["data.csv"]);
      assert.equal(
        use.messages[0]?.content,
        "ROLE user TASK c MISSING: data.csv",
      );
      const sent = server.requests.map((r) => who(r).messages[0]?.content);
      assert.ok(sent.includes("ROLE user TASK c MISSING: data.csv"));
      const manifest = await readManifest(summary.run_dir);
      assert.equal(
        (manifest.summary as RunSummary).contract_violations,
        1,
      );
    },
  );
});

Deno.test("runPipeline() runs a loop group's roles in order for max_rounds, or until its condition holds", async () => {
  await withServer(
    startOpenAIServer({
      respond: (request) => {
        const { role, task, messages } = who(request);
        const round = /ROUND (\d)/.exec(messages[0]!.content)?.[1];
        if (role === "con") {
          return reply(
            `CONCEDE: ${task === "yielding" ? "yes" : "no"} (round ${round})`,
          );
        }
        return reply(role === "pro" ? `pro argues, round ${round}` : "VERDICT");
      },
    }),
    async (server) => {
      await using fx = await fixture(
        `version: 1
name: e2e_loop
${modelsYaml(server.url)}
roles:
  - id: pro
    description: Argues for
    model: actor
    sees: { con: [final_text] }
    prompts: { user: "ROLE pro TASK {{ task.id }} ROUND {{ round }}/{{ max_rounds }} LAST {{ upstream.con.final_text | default: 'none' }}" }
  - id: con
    description: Argues against
    model: actor
    after: [pro]
    outputs: { concession: { extract: regex, pattern: 'CONCEDE: (\\w+)', group: 1 } }
    prompts: { user: "ROLE con TASK {{ task.id }} ROUND {{ round }}/{{ max_rounds }}" }
  - id: judge
    description: Decides
    model: actor
    after: [con]
    prompts: { user: "ROLE judge TASK {{ task.id }}" }
flow:
  loops:
    - id: rounds
      roles: [pro, con]
      max_rounds: 2
      until: { output: con.concession, matches: "^yes" }
${DATASET_YAML}`,
        [{ id: "stubborn" }, { id: "yielding" }],
      );
      const { summary, events } = await runFixture(fx, { concurrency: 2 });
      assert.equal(summary.episodes_done, 2);
      const order = (episode: string) =>
        actionsOf(events, episode).map((a) => `${a.role}@${a.round}`);
      assert.deepEqual(order("eval:stubborn"), [
        "pro@1",
        "con@1",
        "pro@2",
        "con@2",
        "judge@1",
      ]);
      assert.deepEqual(
        ofKind(events, "role_finished", "eval:stubborn").map((r) =>
          `${r.role}@${r.round}`
        ),
        order("eval:stubborn"),
      );
      const pro = actionsOf(events, "eval:stubborn").filter((a) =>
        a.role === "pro"
      );
      assert.equal(
        pro[0]?.messages[0]?.content,
        "ROLE pro TASK stubborn ROUND 1/2 LAST none",
      );
      assert.equal(
        pro[1]?.messages[0]?.content,
        "ROLE pro TASK stubborn ROUND 2/2 LAST CONCEDE: no (round 1)",
      );
      // `until` stops the loop after the first round in which the opponent concedes.
      assert.deepEqual(order("eval:yielding"), ["pro@1", "con@1", "judge@1"]);
      const [done] = ofKind(events, "episode_finished", "eval:yielding");
      assert.deepEqual(done?.outputs.con, { concession: "yes" });
    },
  );
});

Deno.test("run killed with SIGKILL mid-way, then --resume, loses and duplicates no episode", async () => {
  await withServer(
    startOpenAIServer({
      latency_ms: 300,
      respond: (r) => reply(`done ${who(r).task}`),
    }),
    async (server) => {
      const ids = ["k0", "k1", "k2", "k3", "k4", "k5"];
      await using fx = await fixture(
        `version: 1
name: e2e_resume
${modelsYaml(server.url)}
roles:
  - id: solo
    description: Answers
    model: actor
    prompts: { user: "ROLE solo TASK {{ task.id }}" }
${DATASET_YAML}`,
        ids.map((id) => ({ id })),
      );
      const out = join(fx.dir, "runs");
      const child = cliCommand([
        fx.specPath,
        "--concurrency",
        "1",
        "--out",
        out,
      ]).spawn();
      let runDir: string;
      try {
        // Two episodes finished and a third one started: kill it mid-episode.
        runDir = await waitForEvents(out, (lines) => {
          const finished = lines.filter((l) => l.kind === "episode_finished");
          const started = lines.filter((l) => l.kind === "episode_started");
          return finished.length >= 2 && started.length > finished.length;
        });
      } finally {
        child.kill("SIGKILL");
        await child.output();
      }
      const before = await readEvents(runDir);
      const finishedBefore = new Set(
        ofKind(before, "episode_finished").map((e) => e.episode_id),
      );
      const interrupted = ofKind(before, "episode_started").filter((e) =>
        !finishedBefore.has(e.episode_id)
      );
      assert.equal(interrupted.length, 1);
      const victim = interrupted[0]!;
      assert.ok(finishedBefore.size >= 2);
      assert.ok(finishedBefore.size < ids.length);
      assert.ok(!before.some((e) => e.kind === "run_finished"));
      // A torn last line, as a crash in the middle of a write leaves it.
      const torn = '{"run_id":"x","step":999,"kind":"act';
      await Deno.writeTextFile(join(runDir, "events.jsonl"), torn, {
        append: true,
      });

      const resumed = await cli([fx.specPath, "--resume", runDir]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(
        resumed.stderr,
        new RegExp(`${finishedBefore.size} already done`),
      );
      // The killed run's workspace root stays behind in the temp folder; tidy it up.
      await Deno.remove(dirname(victim.workspace), { recursive: true })
        .catch(() => {});

      const events = await readEvents(runDir);
      assert.deepEqual(events.map((e) => e.step), events.map((_, i) => i));
      const starts = ofKind(events, "run_started");
      assert.deepEqual(starts.map((e) => e.resumed), [false, true]);
      assert.ok((starts[1]!.repaired_bytes ?? 0) >= torn.length);
      const finished = ofKind(events, "episode_finished");
      assert.deepEqual(
        finished.map((e) => e.episode_id).sort(),
        ids.map((id) => `eval:${id}`),
      );
      for (const e of finished) {
        assert.equal(e.status, "completed");
        assert.equal(e.attempt, e.episode_id === victim.episode_id ? 2 : 1);
      }
      assert.deepEqual(
        ofKind(events, "episode_started", victim.episode_id).map((e) =>
          e.attempt
        ),
        [1, 2],
      );
      // Finished episodes were not run again.
      for (const id of finishedBefore) {
        assert.equal(ofKind(events, "episode_started", id).length, 1);
        assert.equal(actionsOf(events, id).length, 1);
      }
      assert.deepEqual(events.at(-1), {
        ...events.at(-1),
        kind: "run_finished",
        status: "completed",
      });
      const manifest = await readManifest(runDir);
      assert.equal(manifest.status, "completed");
      assert.equal(typeof manifest.resumed_at, "string");
    },
  );
});

Deno.test("run pipelines/math.yaml --limit 2 uses the demo policy offline, and the model when MAPPA_ACTOR_URL is set", async (t) => {
  const out = await Deno.makeTempDir({ prefix: "mappa-e2e-math-" });
  try {
    await t.step("offline: the demo policy, and it says so first", async () => {
      const r = await cli([
        "pipelines/math.yaml",
        "--limit",
        "2",
        "--out",
        join(out, "demo"),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.split("\n")[0]!, /DEMO POLICY/);
      const runDir = (await onlyRunDir(join(out, "demo")))!;
      const events = await readEvents(runDir);
      const finished = ofKind(events, "episode_finished");
      assert.deepEqual(finished.map((e) => e.status), [
        "completed",
        "completed",
      ]);
      for (const e of finished) {
        assert.deepEqual(e.outputs.verifier, { answer: "70" });
      }
      const actions = actionsOf(events);
      assert.ok(actions.length >= 6);
      assert.ok(actions.every((a) => a.model_call.provider === "scripted"));
      assert.equal((await readManifest(runDir)).policy, "demo");
    });

    await t.step(
      "MAPPA_ACTOR_URL: the model answers, and the first line names it",
      async () => {
        await withServer(
          startOpenAIServer({
            respond: (request) => {
              const first =
                (request.body as { messages: { content: string }[] })
                  .messages[0]!.content;
              return reply(
                /^You are the Verifier/.test(first)
                  ? "The sum of the bases is \\boxed{70}"
                  : "I have checked the draft.",
              );
            },
          }),
          async (server) => {
            const r = await cli([
              "pipelines/math.yaml",
              "--limit",
              "2",
              "--out",
              join(out, "model"),
            ], { MAPPA_ACTOR_URL: server.url });
            assert.equal(r.code, 0, r.stderr);
            const line = r.stdout.split("\n")[0]!;
            assert.doesNotMatch(line, /DEMO/);
            assert.match(line, /models actor=Qwen\/Qwen3-4B-Thinking-2507/);
            const runDir = (await onlyRunDir(join(out, "model")))!;
            const events = await readEvents(runDir);
            const actions = actionsOf(events);
            assert.equal(actions.length, 6);
            assert.equal(server.requests.length, 6);
            assert.ok(actions.every((a) => a.model_call.provider === "openai"));
            for (const e of ofKind(events, "episode_finished")) {
              assert.equal(e.status, "completed");
              assert.deepEqual(e.outputs.verifier, { answer: "70" });
            }
            assert.equal((await readManifest(runDir)).policy, "model");
          },
        );
      },
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

async function interruptRun(
  respond: (request: RecordedRequest) => FakeAction,
  latencyMs: number,
  afterFirstRequestMs: number,
) {
  await withServer(
    startOpenAIServer({ latency_ms: latencyMs, respond }),
    async (server) => {
      await using fx = await fixture(
        `version: 1
name: e2e_sigint
${modelsYaml(server.url)}
tools:
  python: { language: python, timeout_s: 60 }
roles:
  - id: solo
    description: Writes out.txt
    model: actor
    tools: [python]
    produces: [{ path: out.txt, required: true }]
    prompts: { user: "ROLE solo TASK {{ task.id }}" }
${DATASET_YAML}`,
        ["i0", "i1", "i2"].map((id) => ({ id })),
      );
      const out = join(fx.dir, "runs");
      const child = cliCommand([
        fx.specPath,
        "--concurrency",
        "1",
        "--out",
        out,
      ]).spawn();
      let result: Deno.CommandOutput;
      let sentAt = 0;
      try {
        const deadline = performance.now() + 20_000;
        while (server.requests.length === 0 && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, afterFirstRequestMs));
        sentAt = performance.now();
        child.kill("SIGINT");
      } finally {
        result = await child.output();
      }
      assert.ok(performance.now() - sentAt < 10_000, "the run stopped at once");
      const stdout = new TextDecoder().decode(result.stdout);
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 130, stderr);
      const runDir = (await onlyRunDir(out))!;
      assert.ok(stderr.includes(`--resume ${runDir}`), stderr);
      const events = await readEvents(runDir);
      assert.deepEqual(events.at(-1), {
        ...events.at(-1),
        kind: "run_finished",
        status: "interrupted",
      });
      assert.deepEqual(events.map((e) => e.kind), [
        "run_started",
        "episode_started",
        "run_finished",
      ]);
      // The abandoned episode's cut-short work is not reported as errors: --resume runs it again.
      assert.match(
        stdout,
        /model errors: 0; tool executions: 0, 0 not ok; contract violations: 0/,
      );
      assert.equal((await readManifest(runDir)).status, "interrupted");
    },
  );
}

Deno.test("run stops cleanly on Ctrl-C: exit 130, a --resume hint, and an interrupted run", async (t) => {
  await t.step(
    "during a model call",
    () => interruptRun(() => reply("too late"), 1_000, 0),
  );
  await t.step("during a sandboxed execution", () =>
    interruptRun(
      () =>
        reply(
          python("import time\nprint('waiting', flush=True)\ntime.sleep(60)"),
        ),
      0,
      500,
    ));
});
