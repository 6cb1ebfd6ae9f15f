import assert from "node:assert/strict";
import {
  json,
  type Received,
  serve,
  TRAINER_INFO,
} from "../tests/fixtures/training_fixtures.ts";
import { TrainerClient, TrainerError } from "./trainer_client.ts";
import type { PolicyConfig, TrainLine, TrainRequest } from "./protocol.ts";

const INFO = TRAINER_INFO;

const CONFIG: PolicyConfig = {
  adapter: { r: 8, alpha: 16 },
  optimizer: { lr: 0.001, weight_decay: 0, grad_clip: 1 },
  algo: {
    name: "reinforce_pp",
    kl_coef: 0.01,
    kl_estimator: "k1",
    clip_eps: [0.2, 0.2],
    reward_clip: [-10, 10],
    gamma: 1,
    ppo_epochs: 1,
    minibatch_size: 1,
    mask_truncated: false,
  },
};

const REQUEST: TrainRequest = {
  policy_id: "drafter",
  expected_version: 2,
  idempotency_key: "s1:step3:drafter",
  samples: [{
    sample_id: "r/e/0",
    trajectory_id: "r/e",
    action_index: 0,
    policy_version: 2,
    prompt_token_ids: [1, 2],
    completion_token_ids: [3],
    reward: 0.5,
  }],
};

const PROGRESS_1 = {
  type: "progress",
  step: 1,
  loss: 0.5,
  kl: 0,
  clipfrac: 0,
  ratio_mean: 1,
  grad_norm: 0.1,
  mismatch_kl: null,
};
const PROGRESS_2 = { ...PROGRESS_1, step: 2, loss: 0.25 };
const DONE = {
  type: "done",
  policy_id: "drafter",
  new_version: 3,
  adapter_dir: null,
  metrics: { loss: 0.25, kl: null },
};

function ndjson(lines: readonly unknown[], status = 200): Response {
  return new Response(
    lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l)) + "\n")
      .join(""),
    { status, headers: { "content-type": "application/x-ndjson" } },
  );
}

async function rejects(
  promise: Promise<unknown>,
  expected: { code: string; status: number | null; message?: RegExp },
): Promise<TrainerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof TrainerError, `not a TrainerError: ${e}`);
    assert.equal(e.name, "TrainerError");
    assert.equal(e.code, expected.code, e.message);
    assert.equal(e.status, expected.status, e.message);
    if (expected.message) assert.match(e.message, expected.message);
    return e;
  }
  assert.fail("expected a TrainerError, got a result");
}

Deno.test("TrainerClient reads info, policies and restores", async (t) => {
  const state = { policy_id: "drafter", version: 0, state: "ready" };
  await using server = serve((r: Received) => {
    if (r.method === "GET" && r.path === "/v1/info") return json(INFO);
    if (r.path.startsWith("/v1/policies/")) {
      if (r.path.endsWith("/restore")) {
        return json({
          policy_id: "drafter",
          version: (r.body as { version: number }).version,
        });
      }
      return json({ ...state, served_name: "drafter", extra: 1 });
    }
    return json({ error: "not_found", message: r.path }, 404);
  });
  const client = new TrainerClient(server.url);

  await t.step("info()", async () => {
    const info = await client.info();
    assert.equal(info.protocol, "1");
    assert.equal(info.tokenizer.vocab_size, 64);
    assert.equal(info.tokenizer.chat_template_sha256, "a".repeat(64));
    assert.equal(info.capabilities.logprobs, "processed");
    assert.deepEqual(server.received.at(-1), {
      method: "GET",
      path: "/v1/info",
      body: undefined,
    });
  });

  await t.step("putPolicy() sends the config to an encoded path", async () => {
    const got = await client.putPolicy("a/b c", CONFIG);
    assert.equal(got.policy_id, "drafter");
    assert.equal(got.version, 0);
    assert.equal(got.served_name, "drafter");
    assert.deepEqual(server.received.at(-1), {
      method: "PUT",
      path: "/v1/policies/a%2Fb%20c",
      body: CONFIG,
    });
  });

  await t.step("policy()", async () => {
    const got = await client.policy("drafter");
    assert.equal(got.state, "ready");
    assert.equal(server.received.at(-1)!.method, "GET");
    assert.equal(server.received.at(-1)!.path, "/v1/policies/drafter");
  });

  await t.step("restore()", async () => {
    const got = await client.restore("drafter", 3);
    assert.deepEqual(got, { policy_id: "drafter", version: 3 });
    assert.deepEqual(server.received.at(-1), {
      method: "POST",
      path: "/v1/policies/drafter/restore",
      body: { version: 3 },
    });
  });
});

Deno.test("TrainerClient rejects replies that are not protocol 1", async (t) => {
  let reply: () => Response = () => json({});
  await using server = serve(() => reply());
  const client = new TrainerClient(server.url);
  await t.step("an info of another protocol", async () => {
    reply = () => json({ ...INFO, protocol: "2" });
    const e = await rejects(client.info(), {
      code: "malformed",
      status: 200,
      message: /GET \/v1\/info.*protocol/,
    });
    assert.equal((e.body as { protocol: string }).protocol, "2");
  });
  await t.step("a body that is not JSON", async () => {
    reply = () => new Response("<html>", { status: 200 });
    await rejects(client.policy("drafter"), {
      code: "malformed",
      status: 200,
      message: /not JSON/,
    });
  });
});

Deno.test("TrainerClient.train() streams progress in order and returns done", async () => {
  await using server = serve(() => ndjson([PROGRESS_1, "", PROGRESS_2, DONE]));
  const client = new TrainerClient(server.url);
  const seen: TrainLine[] = [];
  const done = await client.train(REQUEST, (line) => seen.push(line));
  assert.deepEqual(seen.map((l) => [l.type, l.step, l.loss]), [
    ["progress", 1, 0.5],
    ["progress", 2, 0.25],
  ]);
  assert.equal(done.type, "done");
  assert.equal(done.new_version, 3);
  assert.deepEqual(done.metrics, { loss: 0.25, kl: null });
  assert.deepEqual(server.received, [{
    method: "POST",
    path: "/v1/train",
    body: REQUEST,
  }]);
  // Without a callback the progress lines are read and dropped.
  assert.equal((await client.train(REQUEST)).new_version, 3);
});

Deno.test("TrainerClient maps error replies to TrainerError codes", async (t) => {
  let reply: () => Response = () => json({});
  await using server = serve(() => reply());
  const client = new TrainerClient(server.url);

  await t.step("409 version_conflict with current_version", async () => {
    reply = () =>
      json({
        error: "version_conflict",
        message: "expected 2, at 4",
        current_version: 4,
      }, 409);
    const e = await rejects(client.train(REQUEST), {
      code: "version_conflict",
      status: 409,
      message: /POST \/v1\/train.*409 version_conflict.*expected 2, at 4/,
    });
    assert.equal((e.body as { current_version: number }).current_version, 4);
  });

  await t.step("422 stale_samples with sample_ids", async () => {
    reply = () =>
      json({
        error: "stale_samples",
        message: "1 sample at version 1",
        sample_ids: ["r/e/0"],
      }, 422);
    const e = await rejects(client.train(REQUEST), {
      code: "stale_samples",
      status: 422,
    });
    assert.deepEqual((e.body as { sample_ids: string[] }).sample_ids, [
      "r/e/0",
    ]);
  });

  await t.step("422 no_signal, OpenAI-shaped error object", async () => {
    reply = () =>
      json({
        error: { message: "all advantages are zero", code: "no_signal" },
      }, 422);
    await rejects(client.train(REQUEST), {
      code: "no_signal",
      status: 422,
      message: /all advantages are zero/,
    });
  });

  await t.step("503 while the policy trains", async () => {
    reply = () => json({ error: "policy_busy", message: "training" }, 503);
    await rejects(client.policy("drafter"), {
      code: "policy_busy",
      status: 503,
    });
    reply = () => json({ error: { message: "busy", code: null } }, 503);
    await rejects(client.info(), { code: "http_503", status: 503 });
  });

  await t.step("a non-JSON error body", async () => {
    reply = () => new Response("Bad Gateway", { status: 502 });
    const e = await rejects(client.train(REQUEST), {
      code: "http_502",
      status: 502,
      message: /HTTP 502: Bad Gateway/,
    });
    assert.equal(e.body, "Bad Gateway");
  });
});

Deno.test("TrainerClient.train() rejects a bad stream", async (t) => {
  let reply: () => Response = () => ndjson([]);
  await using server = serve(() => reply());
  const client = new TrainerClient(server.url);

  await t.step("a line that is not JSON, named by number", async () => {
    reply = () => ndjson([PROGRESS_1, "{not json", DONE]);
    const seen: number[] = [];
    const e = await rejects(client.train(REQUEST, (l) => seen.push(l.step)), {
      code: "malformed",
      status: 200,
      message: /line 2 .*policy "drafter"/,
    });
    assert.equal(e.body, "{not json");
    assert.deepEqual(seen, [1]);
  });

  await t.step("a JSON line of an unknown type", async () => {
    reply = () => ndjson([{ type: "chunk", step: 1 }, DONE]);
    await rejects(client.train(REQUEST), {
      code: "malformed",
      status: 200,
      message: /line 1 /,
    });
  });

  await t.step("an error line", async () => {
    reply = () =>
      ndjson([PROGRESS_1, {
        type: "error",
        error: "oom",
        message: "CUDA out of memory",
      }]);
    await rejects(client.train(REQUEST), {
      code: "oom",
      status: 200,
      message: /oom: CUDA out of memory.*unchanged/,
    });
  });

  await t.step("an error line before a done line still fails", async () => {
    reply = () =>
      ndjson([
        { type: "error", error: "nan_loss", message: "loss is NaN" },
        DONE,
      ]);
    await rejects(client.train(REQUEST), { code: "nan_loss", status: 200 });
  });

  await t.step("a stream without done", async () => {
    reply = () => ndjson([PROGRESS_1, PROGRESS_2]);
    await rejects(client.train(REQUEST), {
      code: "malformed",
      status: 200,
      message: /without a done record/,
    });
  });

  await t.step("a done whose new_version is not expected + 1", async () => {
    for (const v of [2, 4]) {
      reply = () => ndjson([{ ...DONE, new_version: v }]);
      await rejects(client.train(REQUEST), {
        code: "malformed",
        status: 200,
        message: new RegExp(`version ${v} .*exactly \\+1`),
      });
    }
  });
});

Deno.test("TrainerClient reports an unreachable trainer", async () => {
  let url: string;
  {
    await using server = serve(() => json(INFO));
    url = server.url;
  }
  const client = new TrainerClient(url, { timeoutMs: 5000 });
  const e = await rejects(client.info(), {
    code: "unreachable",
    status: null,
    message:
      /Cannot reach the trainer at http:\/\/127\.0\.0\.1:\d+ \(GET \/v1\/info\)/,
  });
  assert.equal(e.body, undefined);
  await rejects(client.train(REQUEST), { code: "unreachable", status: null });
});

Deno.test("TrainerClient refuses a base URL that is not a URL", () => {
  for (const bad of ["", "local", "127.0.0.1:8000", "http://"]) {
    assert.throws(
      () => new TrainerClient(bad),
      (e: unknown) => e instanceof TypeError && e.message.includes(`"${bad}"`),
      bad,
    );
  }
});

Deno.test("TrainerClient normalises a base URL ending in /v1", async () => {
  await using server = serve((r) =>
    r.path === "/v1/info" ? json(INFO) : json({ error: "not_found" }, 404)
  );
  for (
    const base of [
      server.url,
      `${server.url}/`,
      `${server.url}/v1`,
      `${server.url}/v1/`,
    ]
  ) {
    const client = new TrainerClient(base);
    assert.equal(client.baseUrl, server.url, base);
    assert.equal(client.openaiBaseUrl, `${server.url}/v1`, base);
    assert.equal((await client.info()).protocol, "1", base);
  }
  assert.deepEqual(
    server.received.map((r) => r.path),
    Array(4).fill("/v1/info"),
  );
  const nested = new TrainerClient("http://127.0.0.1:9/trainer/v1/");
  assert.equal(nested.baseUrl, "http://127.0.0.1:9/trainer");
  assert.equal(nested.openaiBaseUrl, "http://127.0.0.1:9/trainer/v1");
});

Deno.test("TrainerClient.train() hands each progress line over as it arrives, before the update ends", async () => {
  let release!: () => void;
  const seen = new Promise<void>((r) => release = r);
  const enc = new TextEncoder();
  await using server = serve(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(enc.encode(JSON.stringify(PROGRESS_1) + "\n"));
          // The done line is only sent once the client has shown the progress line.
          await seen;
          controller.enqueue(enc.encode(JSON.stringify(DONE) + "\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "application/x-ndjson" } },
    )
  );
  const client = new TrainerClient(server.url);
  const steps: number[] = [];
  // Without live lines the server would wait forever: fail after 10 s instead of hanging the suite.
  let late = false;
  const guard = setTimeout(() => {
    late = true;
    release();
  }, 10_000);
  const done = await client.train(REQUEST, (line) => {
    steps.push(line.step);
    release();
  });
  clearTimeout(guard);
  assert(!late, "the progress line arrived only with the end of the reply");
  assert.deepEqual(steps, [1]);
  assert.equal(done.new_version, 3);
});
