import assert from "node:assert/strict";
import { RubricSchema } from "../dsl/schema.ts";
import type { GraphRubric } from "../dsl/graph.ts";
import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
} from "../runtime/ports.ts";
import { JudgeCache } from "./judge_cache.ts";
import { rescoreRun, sampleActions } from "./rescore.ts";
import { fixtureRunDir } from "../tests/fixtures/rescore_fixture.ts";
import { listLayers, readLayer } from "./score_layer.ts";

/** A judge behind the ModelClient port that always gives `score` (STYLE.md §10: fakes at the edge). */
class FakeJudge implements ModelClient {
  readonly requests: ModelRequest[] = [];
  constructor(readonly score: number) {}
  complete(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    return Promise.resolve({
      ok: true,
      text: JSON.stringify({
        reasoning: "fine",
        score: this.score,
        blame: null,
      }),
      tool_calls: [],
      finish_reason: "stop",
      usage: { prompt_tokens: 10, completion_tokens: 5 },
      latency_ms: 1,
      cost_usd: 0.001,
      attempts: 1,
      provider: "openai",
      model_name: "fake-judge",
    });
  }
}

function rubric(fields: Record<string, unknown>, hash: string): GraphRubric {
  return { ...RubricSchema.parse(fields), hash, file: "r.yaml" };
}

const CHECKS = [{ id: "missing", when: "required_file_missing", cap: 2 }];
const OFFLINE = rubric(
  { name: "offline", default_score: 8, checks: CHECKS },
  "0000000000aa",
);
const JUDGED = rubric({
  name: "judged",
  // The action index keeps prompts distinct, so no judgement depends on another finishing first.
  template:
    "Judge {{ role.id }} action {{ action.index }}: {{ action.output }}",
  checks: CHECKS,
}, "0000000000bb");

Deno.test("rescoreRun() scores every action with a deterministic rubric and never twice", async () => {
  const dir = await fixtureRunDir();
  const first = await rescoreRun(dir, { rubric: OFFLINE });
  assert.deepEqual(
    [
      first.layer,
      first.selected,
      first.written,
      first.skipped,
      first.judge_calls,
    ],
    ["offline@0000000000aa", 4, 4, 0, 0],
  );
  const verdicts = await readLayer(dir, first.layer);
  assert.deepEqual(
    verdicts.map((v) => [v.role, v.action_index, v.raw_score, v.score]),
    [["data_engineer", 0, 8, 2], ["data_engineer", 1, 8, 2], [
      "modeler",
      2,
      8,
      8,
    ], [
      "analyst",
      3,
      8,
      8,
    ]],
  );
  const before = await Deno.readTextFile(first.path);
  const again = await rescoreRun(dir, { rubric: OFFLINE });
  assert.deepEqual([again.written, again.skipped], [0, 4]);
  assert.equal(await Deno.readTextFile(first.path), before);
  assert.deepEqual(await listLayers(dir), ["offline@0000000000aa"]);
});

Deno.test("rescoreRun() limits to roles and a deterministic sample", async () => {
  const dir = await fixtureRunDir();
  const some = await rescoreRun(dir, {
    rubric: OFFLINE,
    roles: ["data_engineer"],
  });
  assert.deepEqual([some.selected, some.written], [2, 2]);
  const sampled = await rescoreRun(dir, {
    rubric: OFFLINE,
    sample: 3,
    seed: 1,
  });
  assert.equal(sampled.selected, 3);
  assert.equal(sampled.written, 3 - sampled.skipped);
  await assert.rejects(
    rescoreRun(dir, { rubric: OFFLINE, roles: ["nobody"] }),
    /Cannot find role "nobody"/,
  );
});

Deno.test("sampleActions() is deterministic and a larger sample keeps a smaller one", () => {
  const keys = Array.from(
    { length: 20 },
    (_, i) => ({
      episode_id: `e${i % 3}`,
      attempt: 1,
      action_index: i,
      role: "r",
    }),
  );
  const five = sampleActions(keys, 5, 42);
  const ten = sampleActions(keys, 10, 42);
  assert.equal(five.length, 5);
  assert.deepEqual(sampleActions(keys, 5, 42), five);
  assert.ok(five.every((k) => ten.includes(k)));
  assert.deepEqual(ten, keys.filter((k) => ten.includes(k)));
  assert.notDeepEqual(sampleActions(keys, 5, 43), five);
  assert.throws(() => sampleActions(keys, -1, 0), RangeError);
});

Deno.test("rescoreRun() judges with the LLM, applies checks, and a rescore from the cache calls nothing", async () => {
  const dir = await fixtureRunDir();
  const cache = new JudgeCache({ dir: await Deno.makeTempDir() });
  const judge = new FakeJudge(7);
  const result = await rescoreRun(dir, {
    rubric: JUDGED,
    client: judge,
    cache,
    tasks: [],
    concurrency: 2,
  });
  assert.deepEqual(
    [result.written, result.cached, result.unscored, result.judge_calls],
    [4, 0, 0, 4],
  );
  assert.ok(Math.abs(result.cost_usd - 0.004) < 1e-12);
  assert.equal(judge.requests.length, 4);
  assert.equal(judge.requests[0]!.model, "m");
  const verdicts = await readLayer(dir, result.layer);
  assert.deepEqual(
    verdicts.map((
      v,
    ) => [v.role, v.raw_score, v.score, v.applied.map((a) => a.id)]),
    [
      ["data_engineer", 7, 2, ["missing"]],
      ["data_engineer", 7, 2, ["missing"]],
      ["modeler", 7, 7, []],
      ["analyst", 7, 7, []],
    ],
  );

  await Deno.remove(result.path);
  const fresh = new FakeJudge(1);
  const cachedRun = await rescoreRun(dir, {
    rubric: JUDGED,
    client: fresh,
    cache,
    tasks: [],
  });
  assert.deepEqual(
    [cachedRun.written, cachedRun.cached, cachedRun.judge_calls],
    [4, 4, 0],
  );
  assert.equal(fresh.requests.length, 0);
  assert.deepEqual((await readLayer(dir, result.layer)).map((v) => v.score), [
    2,
    2,
    7,
    7,
  ]);
  await Deno.remove(cache.dir, { recursive: true });
});

Deno.test("rescoreRun() stops starting judge calls once aborted, keeping what it wrote", async () => {
  const dir = await fixtureRunDir();
  const stop = new AbortController();
  const result = await rescoreRun(dir, {
    rubric: OFFLINE,
    concurrency: 1,
    signal: stop.signal,
    onVerdict: () => stop.abort(),
  });
  assert.deepEqual([result.written, result.interrupted], [1, true]);
  const rest = await rescoreRun(dir, { rubric: OFFLINE });
  assert.deepEqual([rest.written, rest.skipped, rest.interrupted], [
    3,
    1,
    false,
  ]);
  assert.deepEqual(
    (await readLayer(dir, rest.layer)).map((v) => v.action_index),
    [0, 1, 2, 3],
  );
});

Deno.test("rescoreRun() refuses a judge rubric without a client or without its tasks", async () => {
  const dir = await fixtureRunDir();
  await assert.rejects(
    rescoreRun(dir, { rubric: JUDGED }),
    (e) => e instanceof TypeError && /needs a judge client/.test(e.message),
  );
  await assert.rejects(
    rescoreRun(dir, { rubric: JUDGED, client: new FakeJudge(5) }),
    /its tasks cannot be loaded/,
  );
  assert.deepEqual(await listLayers(dir), []);
});
