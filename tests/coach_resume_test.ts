// Issue 14, items 1 and 6: a coached run stopped mid-way (kill -9, or Ctrl-C) and resumed ends with exactly
// one final verdict for every action of every finished episode: actions of episodes that finished before
// the stop but were not judged yet are judged on resume, and a judge call cut off by Ctrl-C is redone,
// not recorded as the judge's error.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readLayer } from "../coaches/mod.ts";
import { type RunEvent, RunEventSchema } from "../runtime/mod.ts";
import { resolveActionRefs } from "../runtime/action_history.ts";
import {
  type FakeAction,
  type RecordedRequest,
  startOpenAIServer,
} from "./fakes/openai_server.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const TASKS = 6;

function lastMessage(request: RecordedRequest): string {
  const messages = (request.body as { messages: { content: string }[] })
    .messages;
  return messages.at(-1)?.content ?? "";
}

async function coachedRun(dir: string, url: string): Promise<string> {
  // A nonce per test run keeps the judge cache (under dir) from answering for the judge.
  const nonce = crypto.randomUUID();
  await Deno.writeTextFile(
    join(dir, "tasks.jsonl"),
    Array.from(
      { length: TASKS },
      (_, i) => JSON.stringify({ id: `t${i}`, q: `${nonce}-${i}` }),
    ).join("\n") + "\n",
  );
  const spec = join(dir, "spec.yaml");
  await Deno.writeTextFile(
    spec,
    `version: 1
name: coached_resume
models:
  actor: { model: actor-model, base_url: "${url}", family: a, max_retries: 0 }
  coach: { model: judge-model, base_url: "${url}", family: b, max_retries: 0 }
roles:
  - { id: planner, description: Plans, model: actor, prompts: { user: "plan {{ task.q }}" } }
  - { id: solver, description: Solves, model: actor, after: [planner], prompts: { user: "solve {{ task.q }}" } }
dataset: { splits: { eval: tasks.jsonl }, fields: { id: id, inputs: { q: q } } }
coach:
  model: coach
  rubric:
    name: slow
    template: "Score {{ role.name }}: {{ action.output }}"
`,
  );
  return spec;
}

function judgeServer() {
  return startOpenAIServer({
    respond: async (request): Promise<FakeAction> => {
      const body = request.body as { model: string };
      if (body.model === "judge-model") {
        // A slow judge: episodes finish well before their actions are judged.
        await new Promise((r) => setTimeout(r, 700));
        return {
          kind: "reply",
          reply: {
            text: JSON.stringify({ reasoning: "fine", score: 6, blame: null }),
          },
        };
      }
      // Actors take a little time too, so the run is caught with episodes still to run (at
      // concurrency 2, the third pair of episodes starts at least a second after the first ends).
      await new Promise((r) => setTimeout(r, 250));
      return { kind: "reply", reply: { text: `ok ${lastMessage(request)}` } };
    },
  });
}

async function readEvents(runDir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(runDir, "events.jsonl"));
  const lines = text.split("\n");
  lines.pop();
  return resolveActionRefs(
    lines.filter((l) => l.trim() !== "").map((l) =>
      RunEventSchema.parse(JSON.parse(l))
    ),
  );
}

async function runDirOf(out: string): Promise<string | undefined> {
  try {
    for await (const e of Deno.readDir(out)) {
      if (e.isDirectory) return join(out, e.name);
    }
  } catch { /* not created yet */ }
  return undefined;
}

/** Starts `run`, waits until some episodes have finished while their judging lags, then sends `signal`. */
async function stopMidRun(
  dir: string,
  spec: string,
  signal: Deno.Signal,
): Promise<string> {
  const out = join(dir, "runs");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", spec, "--out", out, "--concurrency", "2"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let runDir: string | undefined;
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      assert.ok(Date.now() < deadline, "the run never reached the stop point");
      await new Promise((r) => setTimeout(r, 50));
      runDir ??= await runDirOf(out);
      if (!runDir) continue;
      const events = await readEvents(runDir).catch(() => []);
      const finished = events.filter((e) => e.kind === "episode_finished");
      if (finished.length >= 2) break;
    }
  } finally {
    child.kill(signal);
    const done = await child.output();
    if (signal === "SIGINT") {
      assert.equal(
        done.code,
        130,
        new TextDecoder().decode(done.stderr),
      );
    }
  }
  return runDir!;
}

async function assertOneVerdictPerAction(runDir: string): Promise<void> {
  const events = await readEvents(runDir);
  const last = new Map<string, number>();
  for (const e of events) {
    if (e.kind === "episode_finished") last.set(e.episode_id, e.attempt);
  }
  assert.equal(last.size, TASKS, "every episode finished");
  const actions = events.filter((e) =>
    e.kind === "action" && last.get(e.episode_id) === e.attempt
  ).map((e) =>
    e.kind === "action" && `${e.episode_id}#${e.attempt}#${e.action_index}`
  );
  assert.equal(actions.length, TASKS * 2);
  const manifest = JSON.parse(
    await Deno.readTextFile(join(runDir, "manifest.json")),
  );
  const hash = Object.keys(manifest.graph.coach.rubrics)[0]!;
  const verdicts = await readLayer(runDir, `slow@${hash}`);
  const counted = new Map<string, number>();
  for (const v of verdicts) {
    const key = `${v.episode_id}#${v.attempt}#${v.action_index}`;
    if (last.get(v.episode_id) !== v.attempt) continue;
    assert.equal(v.status, "scored", `${key}: ${v.reasoning}`);
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  assert.deepEqual(
    [...counted.keys()].sort(),
    [...actions].sort(),
    "every action of a finished episode has a verdict",
  );
  for (const [key, n] of counted) {
    assert.equal(n, 1, `${key} judged ${n} times`);
  }
}

for (const signal of ["SIGKILL", "SIGINT"] as const) {
  Deno.test(`a coached run stopped by ${signal} while its judge lags, then --resume: exactly one verdict per action`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "mappa_coach_resume_" });
    await using server = await judgeServer();
    const spec = await coachedRun(dir, server.url);
    const runDir = await stopMidRun(dir, spec, signal);
    const before = await readEvents(runDir);
    assert.ok(
      before.filter((e) => e.kind === "episode_finished").length < TASKS,
      "stopped before the end",
    );
    const resumed = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "run", spec, "--resume", runDir],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const dec = new TextDecoder();
    assert.equal(resumed.code, 0, dec.decode(resumed.stderr));
    await assertOneVerdictPerAction(runDir);
    // The report counts actions without a verdict: none are left.
    const report = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "report", runDir],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(report.code, 0, dec.decode(report.stderr));
    assert.match(
      await Deno.readTextFile(join(runDir, "report.html")),
      /0 without a verdict/,
    );
    await Deno.remove(dir, { recursive: true });
  });
}
