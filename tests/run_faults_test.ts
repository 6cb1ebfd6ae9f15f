// Issue 14, items 2 and 3: model endpoints checked before the first episode, infrastructure failures never
// blamed on agents (rerun on --resume, exit 1), provider refusals not taken for empty replies, and a run
// resumed against a model served elsewhere.
import assert from "node:assert/strict";
import { join } from "node:path";
import { RunEventSchema } from "../runtime/mod.ts";
import { type FakeAction, startOpenAIServer } from "./fakes/openai_server.ts";
import { runCli as cli } from "./run_cli.ts";

async function specDir(url: string, extra = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_faults_" });
  await writeSpec(dir, url, extra);
  await Deno.writeTextFile(
    join(dir, "tasks.jsonl"),
    ["a", "b", "c"].map((id) => JSON.stringify({ id, q: `question ${id}` }))
      .join("\n") + "\n",
  );
  return dir;
}

async function writeSpec(dir: string, url: string, extra = ""): Promise<void> {
  await Deno.writeTextFile(
    join(dir, "spec.yaml"),
    `version: 1
name: faults
models:
  actor: { model: actor-model, base_url: "${url}", max_retries: 1, timeout_s: 5${extra} }
roles:
  - { id: solver, description: Solves, model: actor, prompts: { user: "{{ task.q }}" } }
dataset: { splits: { eval: tasks.jsonl }, fields: { id: id, inputs: { q: q } } }
coach:
  model: actor
  rubric: { name: any, default_score: 5 }
`,
  );
}

async function events(dir: string) {
  const out = join(dir, "runs");
  const [run] = [...Deno.readDirSync(out)].map((e) => join(out, e.name));
  const text = await Deno.readTextFile(join(run!, "events.jsonl"));
  return {
    run: run!,
    events: text.trim().split("\n").map((l) =>
      RunEventSchema.parse(JSON.parse(l))
    ),
  };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("preflight: a model that cannot be used stops the run before anything is written, in one line with the fix", async (t) => {
  await t.step("a refused connection", async () => {
    const dir = await specDir(`http://127.0.0.1:${freePort()}/v1`);
    const started = performance.now();
    const r = await cli(["run", join(dir, "spec.yaml")], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(performance.now() - started < 20_000, "no retrying for a minute");
    assert.match(
      r.stderr,
      /^mappa: Cannot reach model "actor" \(actor-model at http:\/\/127\.0\.0\.1:\d+\): the connection failed.*; start the server, or fix models\.actor\.base_url$/m,
    );
    assert.equal(
      await Deno.stat(join(dir, "runs")).then(() => true, () => false),
      false,
      "no run directory",
    );
  });

  await t.step(
    "a key the server refuses, from a variable that is not set",
    async () => {
      await using server = await startOpenAIServer({ api_key: "sk-right" });
      const dir = await specDir(
        server.url,
        ", api_key_env: MAPPA_FAULTS_UNSET_KEY",
      );
      const r = await cli(["run", join(dir, "spec.yaml")], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^mappa: Cannot use model "actor" .*: the server refused the key \(HTTP 401: Incorrect API key provided\); models\.actor\.api_key_env names MAPPA_FAULTS_UNSET_KEY, which is not set: export it$/m,
      );
      assert.equal(
        server.requests.filter((q) => q.method === "POST").length,
        0,
        "no chat request was sent",
      );
    },
  );

  await t.step("a model the server does not serve", async () => {
    await using server = await startOpenAIServer({
      models: ["other-model", "third"],
    });
    const dir = await specDir(server.url);
    const r = await cli(["run", join(dir, "spec.yaml")], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^mappa: Cannot use model "actor" .*: the server does not serve "actor-model" \(it lists "other-model", "third"\); fix models\.actor\.model$/m,
    );
  });

  await t.step("the outcome's LLM judge is checked too", async () => {
    await using server = await startOpenAIServer({ models: ["actor-model"] });
    const dir = await specDir(server.url);
    const spec = join(dir, "spec.yaml");
    await Deno.writeTextFile(
      spec,
      (await Deno.readTextFile(spec)).replace(
        'prompts: { user: "{{ task.q }}" } }',
        'prompts: { user: "{{ task.q }}" }, outputs: { answer: { extract: final_text } } }',
      ).replace(
        "roles:",
        `  judge: { model: judge-model, base_url: "http://127.0.0.1:${freePort()}/v1", max_retries: 1, timeout_s: 5 }
roles:`,
      ) +
        `outcome: { grader: llm_judge, params: { model: judge, answer: solver.answer, rubric: "Is {{ answer }} right?" } }
`,
    );
    const r = await cli(["run", spec], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^mappa: Cannot reach model "judge" \(judge-model at http:\/\/127\.0\.0\.1:\d+\): the connection failed/m,
    );
  });

  await t.step(
    "a server that lists the model, or has no /models, passes",
    async () => {
      for (const models of [["actor-model"], undefined]) {
        await using server = await startOpenAIServer(
          models ? { models } : {},
        );
        const dir = await specDir(server.url);
        const r = await cli(["run", join(dir, "spec.yaml")], dir);
        assert.equal(r.code, 0, r.stderr);
      }
    },
  );
});

Deno.test("a provider refusal is a model failure, not an empty reply: retried, never judged, exit 1; --resume against a fixed URL reruns it and the summary covers the whole run", async () => {
  const refuse = (request: { raw_body: string }): FakeAction =>
    request.raw_body.includes("question b")
      ? { kind: "reply", reply: { text: "", finish_reason: "content_filter" } }
      : { kind: "reply", reply: { text: "42" } };
  await using first = await startOpenAIServer({ respond: refuse });
  const dir = await specDir(first.url);
  const r = await cli(["run", join(dir, "spec.yaml")], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^mappa: 1 episode had model calls that failed for an infrastructure reason .*--resume /m,
  );
  const { run, events: before } = await events(dir);
  const refused = before.filter((e) => e.kind === "action" && !e.model_call.ok);
  assert.equal(refused.length, 1);
  const call = refused[0]!.kind === "action" ? refused[0]!.model_call : null;
  assert.match(
    call!.error!.message,
    /refused to answer \(finish_reason content_filter\)/,
  );
  assert.equal(call!.attempts, 2, "retried per max_retries");
  assert.equal(
    refused[0]!.kind === "action" && refused[0]!.stop_reason,
    "model_error",
  );
  // Never judged: the coach's layer has verdicts for the two good actions only.
  const scores = join(run, "scores");
  const [layer] = [...Deno.readDirSync(scores)].map((e) => e.name);
  const verdicts = (await Deno.readTextFile(join(scores, layer!))).trim()
    .split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    verdicts.map((v) => v.episode_id).sort(),
    ["eval:a", "eval:c"],
  );

  // The model moves to another server (the fixed one): the run resumes as the same run.
  await using second = await startOpenAIServer({
    respond: () => ({ kind: "reply", reply: { text: "42" } }),
  });
  await writeSpec(dir, second.url);
  const again = await cli([
    "run",
    join(dir, "spec.yaml"),
    "--resume",
    run,
  ], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stderr,
    /^mappa: resuming with model actor served elsewhere/m,
  );
  assert.match(again.stderr, /2 already done/);
  assert.match(
    again.stdout,
    /episodes: 3 completed, 0 failed of 3 \(2 of them done before resuming\)/,
  );
  assert.match(again.stdout, /actions: 3 \(solver 3\)/);
  assert.equal(second.requests.length, 1, "only the refused episode ran again");
});
