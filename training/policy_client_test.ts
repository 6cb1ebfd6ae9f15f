import assert from "node:assert/strict";
import { compileFile, type ExecutionGraph } from "../dsl/mod.ts";
import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
} from "../runtime/ports.ts";
import {
  type FakeOpenAIServer,
  startOpenAIServer,
} from "../tests/fakes/openai_server.ts";
import { PolicyModelClient } from "./policy_client.ts";

function relayGraph(): ExecutionGraph {
  const result = compileFile("pipelines/relay.yaml");
  assert.ok(result.ok, "pipelines/relay.yaml compiles");
  return result.graph;
}

/** The relay graph with the spec sampling of its one model replaced, so train and eval modes differ. */
function withSampling(
  graph: ExecutionGraph,
  sampling: Record<string, unknown>,
): ExecutionGraph {
  const tiny = graph.models.tiny!;
  return {
    ...graph,
    models: {
      ...graph.models,
      tiny: {
        ...tiny,
        max_retries: 0,
        sampling: sampling as typeof tiny.sampling,
      },
    },
  };
}

const SPEC_SAMPLING = {
  temperature: 0.3,
  top_p: 0.9,
  max_tokens: 4,
  seed: 7,
  stop: ["\n"],
};

/** A trainer's `/v1/chat/completions`, stamped with the policy version, prompt and completion ids. */
function fakeTrainer(): Promise<FakeOpenAIServer> {
  return startOpenAIServer({
    respond: (r) => ({
      kind: "reply",
      reply: {
        text: "apple",
        model: `${(r.body as { model: string }).model}@2`,
        policy_version: 2,
        prompt_token_ids: [1, 2, 3],
        token_ids: [7, 8],
        logprobs: [-0.5, -0.25],
        usage: { prompt_tokens: 3, completion_tokens: 2 },
      },
    }),
  });
}

/** The base client: records what it was asked and answers "base". */
class StubClient implements ModelClient {
  readonly requests: ModelRequest[] = [];
  complete(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    return Promise.resolve({
      ok: true,
      text: "base",
      tool_calls: [],
      finish_reason: "stop",
      usage: { prompt_tokens: 1, completion_tokens: 1 },
      latency_ms: 0,
      cost_usd: null,
      attempts: 1,
      provider: "scripted",
      model_name: "stub",
    });
  }
}

function ask(fields: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: "tiny",
    role: "drafter",
    episode: "e1",
    turn: 1,
    messages: [{ role: "user", content: "Topic fruit. Reply with one word." }],
    ...fields,
  };
}

function succeeded(reply: ModelResponse) {
  assert.equal(
    reply.ok,
    true,
    `expected a reply, got ${JSON.stringify(reply)}`,
  );
  return reply as Extract<ModelResponse, { ok: true }>;
}

Deno.test("PolicyModelClient sends a trained role's request to the trainer with the training sampling", async () => {
  await using trainer = await fakeTrainer();
  const base = new StubClient();
  const client = new PolicyModelClient(
    withSampling(relayGraph(), SPEC_SAMPLING),
    base,
    {
      baseUrl: trainer.url,
      roles: ["drafter", "finisher"],
      mode: "train",
    },
  );
  const reply = succeeded(await client.complete(ask()));
  assert.equal(base.requests.length, 0);
  assert.equal(trainer.requests.length, 1);
  const body = trainer.requests[0]!.body as Record<string, unknown>;
  assert.equal(body.model, "drafter");
  assert.equal(body.temperature, 1);
  assert.equal(body.top_p, 1);
  assert.equal(body.max_tokens, 4);
  assert.deepEqual(body.stop, ["\n"]);
  assert.equal("seed" in body, false);
  assert.deepEqual(body.messages, [{
    role: "user",
    content: "Topic fruit. Reply with one word.",
  }]);
  assert.equal(reply.text, "apple");
  assert.equal(reply.policy_version, 2);
  assert.deepEqual(reply.prompt_token_ids, [1, 2, 3]);
  assert.deepEqual(reply.completion_token_ids, [7, 8]);
  assert.deepEqual(reply.completion_logprobs, [-0.5, -0.25]);
  assert.equal(reply.provider, "openai");

  // The other trained role is its own policy.
  succeeded(await client.complete(ask({ role: "finisher" })));
  assert.equal(
    (trainer.requests[1]!.body as Record<string, unknown>).model,
    "finisher",
  );
});

Deno.test("PolicyModelClient uses the spec's sampling in eval mode", async () => {
  await using trainer = await fakeTrainer();
  const base = new StubClient();
  const client = new PolicyModelClient(
    withSampling(relayGraph(), SPEC_SAMPLING),
    base,
    { baseUrl: trainer.url, roles: ["drafter"], mode: "eval" },
  );
  const reply = succeeded(await client.complete(ask()));
  assert.equal(reply.policy_version, 2);
  const body = trainer.requests[0]!.body as Record<string, unknown>;
  assert.equal(body.model, "drafter");
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.9);
  assert.equal(body.max_tokens, 4);
  assert.equal(body.seed, 7);
  assert.deepEqual(body.stop, ["\n"]);
  assert.equal(base.requests.length, 0);
});

Deno.test("PolicyModelClient sends judge requests and other roles to the base client", async (t) => {
  await using trainer = await fakeTrainer();
  const base = new StubClient();
  const client = new PolicyModelClient(relayGraph(), base, {
    baseUrl: trainer.url,
    roles: ["drafter"],
    mode: "train",
  });

  await t.step(
    "a judge request attributed to a trained role (response_format)",
    async () => {
      // In relay.yaml the coach's model is the roles' model: the purpose (or a response format) tells them apart.
      const judge = ask({
        response_format: { name: "verdict", schema: { type: "object" } },
        sampling: { temperature: 0, seed: 1 },
      });
      const reply = succeeded(await client.complete(judge));
      assert.equal(reply.text, "base");
      assert.deepEqual(base.requests.at(-1), judge);
    },
  );

  await t.step(
    "a judge request without a response format (structured_output: false)",
    async () => {
      const judge = ask({ purpose: "judge", sampling: { temperature: 0 } });
      assert.equal(succeeded(await client.complete(judge)).text, "base");
      assert.deepEqual(base.requests.at(-1), judge);
    },
  );

  await t.step("a role that is not trained", async () => {
    const req = ask({ role: "finisher" });
    assert.equal(succeeded(await client.complete(req)).text, "base");
    assert.deepEqual(base.requests.at(-1), req);
  });

  await t.step("a trained role's request for another model", async () => {
    const req = ask({ model: "other" });
    assert.equal(succeeded(await client.complete(req)).text, "base");
    assert.deepEqual(base.requests.at(-1), req);
  });

  assert.equal(trainer.requests.length, 0);
  assert.equal(base.requests.length, 4);
});

Deno.test("PolicyModelClient refuses to train a role the pipeline does not have", () => {
  assert.throws(
    () =>
      new PolicyModelClient(relayGraph(), new StubClient(), {
        baseUrl: "http://127.0.0.1:9/v1",
        roles: ["drafter", "critic"],
        mode: "train",
      }),
    (e: unknown) =>
      e instanceof RangeError &&
      /"critic"/.test(e.message) &&
      /drafter, finisher/.test(e.message),
  );
});

Deno.test("PolicyModelClient passes the run's sizing to its policies and its base client", async () => {
  await using trainer = await startOpenAIServer({
    latency_ms: 150,
    respond: () => ({ kind: "reply", reply: { text: "x", policy_version: 0 } }),
  });
  const sized: Record<string, number>[] = [];
  const base = new StubClient();
  (base as unknown as ModelClient).ensureConcurrency = (limits) => {
    sized.push({ ...limits });
  };
  const graph = relayGraph();
  const unset = {
    ...graph,
    models: {
      ...graph.models,
      tiny: { ...graph.models.tiny!, max_concurrency: undefined },
    },
  } as ExecutionGraph;
  const client = new PolicyModelClient(unset, base, {
    baseUrl: trainer.url,
    roles: ["drafter"],
    mode: "train",
  });
  client.ensureConcurrency({ tiny: 20 });
  assert.deepEqual(sized, [{ tiny: 20 }]);
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.complete(ask({ turn: i }))),
  );
  replies.forEach(succeeded);
  assert.equal(
    trainer.maxInFlight,
    20,
    "all 20 requests in flight: the policy's limit followed the run, not a default of 8",
  );
});

Deno.test("PolicyModelClient seeds each training request from the seed base, episode, role, turn and call", async () => {
  await using trainer = await fakeTrainer();
  let base = "1:3";
  const client = new PolicyModelClient(relayGraph(), new StubClient(), {
    baseUrl: trainer.url,
    roles: ["drafter", "finisher"],
    mode: "train",
    seedBase: () => base,
  });
  const seeds = async (asks: Partial<ModelRequest>[]) => {
    const from = trainer.requests.length;
    for (const a of asks) succeeded(await client.complete(ask(a)));
    return trainer.requests.slice(from).map((r) =>
      (r.body as { seed?: number }).seed
    );
  };
  const asks = [{}, { role: "finisher" }, { episode: "e2" }, { turn: 2 }, {}];
  const first = await seeds(asks);
  assert(first.every((s) => Number.isInteger(s) && s! >= 0 && s! < 2 ** 31));
  // Every request differs, a second call of the same role and turn in an episode too.
  assert.equal(new Set(first).size, first.length);
  // The same base replays the same seeds; another base (step or train.seed) gives others.
  base = "1:4";
  const other = await seeds(asks);
  base = "1:3";
  assert.deepEqual(await seeds(asks), first);
  assert(other.every((s) => !first.includes(s)));
});
