// An outcome judged by a model (grader: llm_judge) through `deno task run`: the offline demo judge,
// labelled; a model judge over loopback HTTP whose 500s leave an episode ungraded until --resume grades it
// again without running the agents; and the judge cache sparing a repeated run the call.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ChatMessage } from "../runtime/ports.ts";
import { type FakeAction, startOpenAIServer } from "./fakes/openai_server.ts";
import { runCli } from "./run_cli.ts";

const SPEC = "tests/specs/outcome_judge/spec.yaml";

interface Finished {
  episode_id: string;
  regraded?: boolean;
  outcome: {
    valid: boolean;
    success: boolean;
    metrics: Record<string, number>;
    summary: string;
    reason?: string;
    ungraded?: string;
  };
}

function runDir(out: string): string {
  const [name] = [...Deno.readDirSync(out)].map((e) => e.name);
  return join(out, name!);
}

/** The last episode_finished of each episode. */
async function finished(dir: string): Promise<Record<string, Finished>> {
  const out: Record<string, Finished> = {};
  for (
    const line of (await Deno.readTextFile(join(dir, "events.jsonl"))).trim()
      .split("\n")
  ) {
    const e = JSON.parse(line);
    if (e.kind === "episode_finished") out[e.episode_id] = e;
  }
  return out;
}

async function judgements(dir: string) {
  return (await Deno.readTextFile(join(dir, "outcome_judge.jsonl"))).trim()
    .split("\n").map((l) => JSON.parse(l));
}

function verdict(score: number): FakeAction {
  return {
    kind: "reply",
    reply: {
      text: JSON.stringify({ reasoning: "compared", score, blame: null }),
    },
  };
}

function promptOf(body: unknown): string {
  return (body as { messages: ChatMessage[] }).messages.map((m) => m.content)
    .join("\n");
}

Deno.test("run: offline, the demo judge grades an llm_judge outcome, labelled in stderr, manifest, grades and the judgement log", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_outcome_judge_demo_" });
  try {
    const ran = await runCli(["run", SPEC, "--out", out]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(
      ran.stderr,
      /^outcome: demo judge \(scripted verdicts, labelled as such, not a model's\): models\.judge has no endpoint/m,
    );
    const dir = runDir(out);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "manifest.json")),
    );
    assert.match(manifest.environment.outcome_judge, /demo judge/);
    const episodes = Object.values(await finished(dir));
    assert.equal(episodes.length, 2);
    for (const e of episodes) {
      assert.deepEqual(e.outcome.metrics, { score: 5, normalized_score: 0.5 });
      assert.equal(e.outcome.success, false);
      assert.match(e.outcome.summary, /^Demo judge: a scripted verdict/);
    }
    assert.deepEqual(
      (await judgements(dir)).map((j) => [j.status, j.demo]),
      [["scored", true], ["scored", true]],
    );
    const report = await runCli(["report", dir]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(
      await Deno.readTextFile(join(dir, "report.html")),
      /<th>Outcome judge<\/th>\s*<td>outcome: demo judge \(scripted verdicts/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("run: a model judge grades over HTTP; its 500s leave the episode ungraded (exit 1), --resume grades it again without the agents, and a repeated run hits the judge cache", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_outcome_judge_http_" });
  try {
    await using actor = await startOpenAIServer({
      respond: () => ({ kind: "reply", reply: { text: "The answer is 42." } }),
    });
    // The first judge answers the 6 x 7 question and fails on the other.
    await using flaky = await startOpenAIServer({
      respond: (r) =>
        promptOf(r.body).includes("Expected answer: 42")
          ? verdict(9)
          : { kind: "status", status: 500, message: "judge overloaded" },
    });
    const env = (judge: string) => ({
      OJ_ACTOR_URL: actor.url,
      OJ_JUDGE_URL: judge,
    });
    const first = await runCli(
      ["run", SPEC, "--out", out],
      Deno.cwd(),
      env(flaky.url),
    );
    assert.equal(first.code, 1, first.stderr);
    assert.match(
      first.stderr,
      /^outcome: judged by models\.judge \(judge-model\)/m,
    );
    assert.match(
      first.stderr,
      /not graded \(grader_error\): .*judge overloaded/,
    );
    const dir = runDir(out);
    let byId = await finished(dir);
    assert.deepEqual(
      [byId["eval:0"]?.outcome.metrics, byId["eval:0"]?.outcome.success],
      [{ score: 9, normalized_score: 0.9 }, true],
    );
    assert.equal(byId["eval:1"]?.outcome.ungraded, "grader_error");
    assert.equal(byId["eval:1"]?.outcome.success, false);
    const actorCalls = actor.requests.length;
    assert.equal(actorCalls, 2);

    await using steady = await startOpenAIServer({ respond: () => verdict(2) });
    const resumed = await runCli(
      ["run", SPEC, "--out", out, "--resume", dir],
      Deno.cwd(),
      env(steady.url),
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    byId = await finished(dir);
    assert.equal(byId["eval:1"]?.regraded, true);
    assert.deepEqual(byId["eval:1"]?.outcome.metrics, {
      score: 2,
      normalized_score: 0.2,
    });
    assert.equal(byId["eval:1"]?.outcome.ungraded, undefined);
    assert.equal(
      actor.requests.length,
      actorCalls,
      "the agents did not run again",
    );
    assert.equal(
      steady.requests.length,
      1,
      "only the ungraded episode was judged",
    );
    // Episodes run concurrently: the log is in the order judgements finished.
    const log = await judgements(dir);
    assert.deepEqual(
      log.map((j) => [j.task_id, j.status, j.reason ?? null, j.cache_hit])
        .sort(),
      [
        ["0", "scored", null, false],
        ["1", "scored", null, false],
        ["1", "unscored", "judge_error", false],
      ],
    );
    const scored = log.find((j) => j.task_id === "0");
    assert.ok(
      scored.prompt_tokens > 0 && scored.cost_usd > 0,
      "tokens and cost recorded",
    );

    // A new run of the same tasks: the second episode's judgement is in the cache, the first is not.
    const out2 = join(out, "again");
    const again = await runCli(
      ["run", SPEC, "--out", out2],
      Deno.cwd(),
      env(steady.url),
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(steady.requests.length, 2);
    const hits = (await judgements(runDir(out2))).map((
      j,
    ) => [j.task_id, j.cache_hit]);
    assert.deepEqual(hits.sort(), [["0", false], ["1", true]]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
