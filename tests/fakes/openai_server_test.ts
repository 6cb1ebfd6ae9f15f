import assert from "node:assert/strict";
import { startOpenAIServer } from "./openai_server.ts";

function post(url: string, body: unknown, signal?: AbortSignal) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k" },
    body: JSON.stringify(body),
    ...(signal !== undefined ? { signal } : {}),
  });
}

Deno.test("startOpenAIServer() answers chat completions and records each request", async () => {
  await using server = await startOpenAIServer({
    queue: [{
      kind: "reply",
      reply: {
        text: "hi",
        prompt_token_ids: [1, 2],
        token_ids: [3],
        logprobs: [-0.5],
        tool_calls: [{ name: "python", arguments: "{}" }],
      },
    }],
  });
  const response = await post(`${server.url}/chat/completions`, {
    model: "m",
    messages: [],
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 0,
    model: "m",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "hi",
        tool_calls: [{
          id: "call_0",
          type: "function",
          function: { name: "python", arguments: "{}" },
        }],
      },
      finish_reason: "tool_calls",
      logprobs: {
        content: [{
          token: "token_id:3",
          logprob: -0.5,
          bytes: null,
          top_logprobs: [],
        }],
      },
      token_ids: [3],
    }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    prompt_token_ids: [1, 2],
  });
  const unprefixed = await post(
    `http://127.0.0.1:${server.port}/chat/completions`,
    {},
  );
  assert.equal(unprefixed.status, 200);
  await unprefixed.body?.cancel();
  const elsewhere = await post(`${server.url}/embeddings`, {});
  assert.equal(elsewhere.status, 404);
  await elsewhere.body?.cancel();
  assert.deepEqual(server.requests.map((r) => [r.method, r.path]), [
    ["POST", "/v1/chat/completions"],
    ["POST", "/chat/completions"],
    ["POST", "/v1/embeddings"],
  ]);
  assert.equal(server.requests[0]?.headers.authorization, "Bearer k");
  assert.deepEqual(server.requests[0]?.body, { model: "m", messages: [] });
});

Deno.test("startOpenAIServer() serves the queue, then respond(), then a default reply", async () => {
  await using server = await startOpenAIServer({
    queue: [{ kind: "status", status: 429, headers: { "retry-after": "1" } }],
    respond: (_request, index) =>
      index === 1
        ? { kind: "reply", reply: { text: "second" } }
        : { kind: "reply" },
  });
  const first = await post(server.url + "/chat/completions", {});
  assert.equal(first.status, 429);
  assert.equal(first.headers.get("retry-after"), "1");
  assert.deepEqual(await first.json(), {
    error: { message: "fake status 429", type: "fake_error", code: null },
  });
  const second = await (await post(server.url + "/chat/completions", {}))
    .json();
  assert.equal(second.choices[0].message.content, "second");
  server.enqueue({ kind: "status", status: 500 });
  const third = await post(server.url + "/chat/completions", {});
  assert.equal(third.status, 500);
  await third.body?.cancel();
  const fourth = await (await post(server.url + "/chat/completions", {}))
    .json();
  assert.equal(fourth.choices[0].message.content, "ok");
});

Deno.test("startOpenAIServer() sends malformed and truncated bodies and drops connections", async () => {
  await using server = await startOpenAIServer({
    queue: [
      { kind: "malformed" },
      { kind: "truncated" },
      { kind: "truncated", framing: "chunked" },
      { kind: "reset" },
    ],
  });
  const malformed = await post(server.url + "/chat/completions", {});
  await assert.rejects(malformed.json(), SyntaxError);
  for (let i = 0; i < 2; i++) {
    const truncated = await post(server.url + "/chat/completions", {});
    assert.equal(truncated.status, 200);
    await assert.rejects(truncated.text(), TypeError);
  }
  await assert.rejects(post(server.url + "/chat/completions", {}), TypeError);
});

Deno.test("startOpenAIServer() holds a hung request until the client leaves, or close()", async () => {
  const server = await startOpenAIServer({
    queue: [{ kind: "hang" }, { kind: "hang" }],
  });
  await assert.rejects(
    post(server.url + "/chat/completions", {}, AbortSignal.timeout(50)),
  );
  const pending = post(server.url + "/chat/completions", {}).then(
    () => "answered",
    () => "dropped",
  );
  while (server.requests.length < 2) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await server.close();
  assert.equal(await pending, "dropped");
  assert.equal(server.requests.length, 2);
});

Deno.test("startOpenAIServer() applies latency and counts concurrent requests", async () => {
  await using server = await startOpenAIServer({ latency_ms: 50 });
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: 3 },
      () => post(server.url + "/chat/completions", {}).then((r) => r.text()),
    ),
  );
  assert.ok(performance.now() - started >= 50);
  assert.equal(server.maxInFlight, 3);
  assert.equal(server.inFlight, 0);
});
