// events.jsonl stays linear in an episode's turns: an action records only the messages and prompt ids it
// adds to the previous action's, and every reader resolves the references, on new runs and old ones alike.
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/mod.ts";
import {
  type ActionEvent,
  BwrapSandbox,
  createModelClient,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  resolveActionRefs,
  type RunEvent,
  RunEventSchema,
  runPipeline,
} from "../runtime/mod.ts";
import {
  buildEvidence,
  JudgeCache,
  readLayer,
  rescoreRun,
} from "../coaches/mod.ts";
import { RunLog } from "../runtime/mod.ts";
import { RubricSchema } from "../dsl/schema.ts";
import { loadRunData } from "../report/report_data.ts";
import { readRunEvents } from "../training/run_stats.ts";
import { runCli } from "./run_cli.ts";
import {
  type RecordedRequest,
  startOpenAIServer,
} from "./fakes/openai_server.ts";

// A reply of this size makes a quadratic log unmistakable at a few turns.
const FILLER = "Let me look at the data once more. ".repeat(120);

type Chat = { role: string; content: string }[];

/** A stand-in tokenizer, as a vLLM server's chat template: a role marker, then one id per 8 characters. */
function tokens(message: { role: string; content: string }): number[] {
  const ids = [
    message.role === "assistant" ? 1 : message.role === "user" ? 2 : 3,
  ];
  for (let i = 0; i < message.content.length; i += 8) {
    let h = 7;
    for (const c of message.content.slice(i, i + 8)) {
      h = (h * 31 + c.charCodeAt(0)) % 50_000;
    }
    ids.push(100 + h);
  }
  return ids;
}

function promptIds(messages: Chat): number[] {
  return messages.flatMap(tokens);
}

function respond(request: RecordedRequest) {
  const messages = (request.body as { messages: Chat }).messages;
  const turn = messages.filter((m) => m.role === "assistant").length + 1;
  const text =
    `Turn ${turn}. ${FILLER}\n\n\`\`\`python\nprint(${turn})\n\`\`\``;
  return {
    kind: "reply" as const,
    reply: {
      text,
      prompt_token_ids: promptIds(messages),
      token_ids: tokens({ role: "assistant", content: text }).slice(1),
    },
  };
}

async function writeSpec(dir: string, url: string, turns: number) {
  await Deno.writeTextFile(join(dir, "tasks.jsonl"), '{"q": "Explore."}\n');
  const spec = join(dir, `spec_${turns}.yaml`);
  await Deno.writeTextFile(
    spec,
    `version: 1
name: long_${turns}
models:
  actor: { model: actor-model, base_url: "${url}" }
tools:
  python: { language: python }
roles:
  - id: explorer
    description: Explores the data with code, turn after turn
    model: actor
    tools: [python]
    max_turns: ${turns}
    prompts: { system: "You explore data.", user: "{{ task.q }}" }
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: { q: q } } }
`,
  );
  const compiled = compileFile(spec);
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  return compiled.graph;
}

async function readRaw(runDir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(runDir, "events.jsonl"));
  return text.trimEnd().split("\n").map((l) =>
    RunEventSchema.parse(JSON.parse(l))
  );
}

/** The bytes events.jsonl would take in the old format: every action's full lists. */
function oldFormat(events: readonly RunEvent[]): string {
  return resolveActionRefs(events).map((e) => JSON.stringify(e) + "\n").join(
    "",
  );
}

/** A judge behind the ModelClient port that scores by the length of what it was asked. */
class LengthJudge implements ModelClient {
  readonly prompts: string[] = [];
  complete(request: ModelRequest): Promise<ModelResponse> {
    const prompt = request.messages.map((m) => m.content).join("\n");
    this.prompts.push(prompt);
    return Promise.resolve({
      ok: true,
      text: JSON.stringify({
        reasoning: "measured",
        score: prompt.length % 11,
        blame: null,
      }),
      tool_calls: [],
      finish_reason: "stop",
      usage: { prompt_tokens: 10, completion_tokens: 5 },
      latency_ms: 1,
      cost_usd: 0,
      attempts: 1,
      provider: "openai",
      model_name: "length-judge",
    });
  }
}

Deno.test("events.jsonl grows linearly with an episode's turns, and readers get every action's full context", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_log_size_" });
  await using server = await startOpenAIServer({ respond });
  const sandbox = await BwrapSandbox.create();
  const run = async (turns: number) => {
    const graph = await writeSpec(dir, server.url, turns);
    const first = server.requests.length;
    const summary = await runPipeline(graph, {
      model: await createModelClient(graph.models, { baseDir: dir }),
      sandbox,
    }, { policy: "model", outDir: join(dir, "runs") });
    assert.equal(summary.actions, turns);
    return { dir: summary.run_dir, requests: server.requests.slice(first) };
  };
  const short = await run(6);
  const long = await run(12);

  await t.step("twice the turns take about twice the bytes", async () => {
    const size = async (d: string) =>
      (await Deno.stat(join(d, "events.jsonl"))).size;
    const ratio = await size(long.dir) / await size(short.dir);
    const oldRatio = oldFormat(await readRaw(long.dir)).length /
      oldFormat(await readRaw(short.dir)).length;
    assert.ok(ratio < 2.2, `events.jsonl grew ${ratio.toFixed(2)}x`);
    // The same runs in the old format (full lists) grow with the square: the check above can fail.
    assert.ok(oldRatio > 3, `the old format grew ${oldRatio.toFixed(2)}x`);
  });

  await t.step(
    "each action records what it adds and names what it continues",
    async () => {
      const actions = (await readRaw(long.dir)).filter((e): e is ActionEvent =>
        e.kind === "action"
      );
      assert.deepEqual(actions[0]!.messages.map((m) => m.role), [
        "system",
        "user",
      ]);
      for (const a of actions.slice(1)) {
        assert.deepEqual(a.messages_ref, {
          action: a.action_index - 1,
          count: 2 * a.turn - 1,
        });
        assert.deepEqual(a.messages.map((m) => m.role), ["user"]);
        // The stand-in template re-renders the reply with a role marker, so only the prompt part is shared.
        assert.equal(
          a.model_call.prompt_token_ids_ref?.action,
          a.action_index - 1,
        );
      }
    },
  );

  await t.step(
    "RunLog and training's reader give the exact messages and prompt ids the server got",
    async () => {
      const log = await RunLog.load(long.dir);
      const keys = log.actions();
      assert.equal(keys.length, long.requests.length);
      for (const [i, key] of keys.entries()) {
        const sent = (long.requests[i]!.body as { messages: Chat }).messages;
        const action = log.action(key);
        assert.deepEqual(action.messages, sent, `messages of action ${i}`);
        assert.deepEqual(action.model_call.prompt_token_ids, promptIds(sent));
      }
      const events = (await readRunEvents(long.dir)).filter((e) =>
        e.kind === "action"
      );
      assert.deepEqual(events, keys.map((k) => log.action(k)));
    },
  );

  await t.step(
    "a run written in the old format (full lists) reads, rescores and reports the same",
    async () => {
      const old = `${long.dir}_old_format`;
      await Deno.mkdir(old);
      await Deno.copyFile(
        join(long.dir, "manifest.json"),
        join(old, "manifest.json"),
      );
      await Deno.writeTextFile(
        join(old, "events.jsonl"),
        oldFormat(await readRaw(long.dir)),
      );
      assert.doesNotMatch(
        await Deno.readTextFile(join(old, "events.jsonl")),
        /_ref"/,
      );
      const [newLog, oldLog] = [
        await RunLog.load(long.dir),
        await RunLog.load(old),
      ];
      for (const key of newLog.actions()) {
        assert.deepEqual(
          buildEvidence(oldLog, key),
          buildEvidence(newLog, key),
        );
      }
      assert.deepEqual(await readRunEvents(old), await readRunEvents(long.dir));

      const rubric = {
        ...RubricSchema.parse({
          name: "context",
          template: "Judge this, given everything it saw:\n{{ action.input }}",
        }),
        hash: "00000000000c",
        file: "context.yaml",
      };
      const scored = [];
      for (const d of [long.dir, old]) {
        const judge = new LengthJudge();
        const result = await rescoreRun(d, {
          rubric,
          client: judge,
          model: "actor",
          cache: new JudgeCache({ dir: await Deno.makeTempDir() }),
          tasks: [],
        });
        assert.equal(result.written, 12);
        const verdicts = await readLayer(d, result.layer);
        scored.push({
          prompts: judge.prompts.toSorted(),
          scores: verdicts.map((v) => [v.action_index, v.score]),
        });
      }
      assert.deepEqual(scored[1], scored[0]);
      // The last action's judge saw all 23 messages of its context.
      assert.ok(scored[0]!.prompts.some((p) => p.includes("Turn 11.")));

      await Deno.writeTextFile(
        join(dir, "lenient.yaml"),
        "name: lenient\ndefault_score: 8\n",
      );
      for (const d of [old, long.dir]) {
        const rescored = await runCli([
          "rescore",
          d,
          "--rubric",
          join(dir, "lenient.yaml"),
        ]);
        assert.equal(rescored.code, 0, rescored.stderr);
        assert.match(
          rescored.stdout,
          /^lenient@[0-9a-f]{12}: 12 verdicts written/,
        );
        const report = await runCli(["report", d]);
        assert.equal(report.code, 0, report.stderr);
        assert.ok((await Deno.stat(join(d, "report.html"))).size > 0);
      }
      const [a, b] = [await loadRunData(long.dir), await loadRunData(old)];
      assert.deepEqual(b.actions, a.actions);
      assert.deepEqual(b.episodes, a.episodes);
    },
  );
  await Deno.remove(dir, { recursive: true });
});
