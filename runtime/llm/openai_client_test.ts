import assert from "node:assert/strict";
import { type Model, ModelSchema } from "../../dsl/schema.ts";
import {
  type FakeAction,
  startOpenAIServer,
} from "../../tests/fakes/openai_server.ts";
import type { ModelRequest, ModelResponse } from "../ports.ts";
import { OpenAIModelClient, UNSIZED_MAX_CONCURRENCY } from "./openai_client.ts";

const KEY = "sk-test-0123456789";
const ENV = (name: string) => (name === "TEST_MODEL_KEY" ? KEY : undefined);
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

function modelAt(url: string, fields: Record<string, unknown> = {}): Model {
  return ModelSchema.parse({
    model: "test-model",
    base_url: url,
    api_key_env: "TEST_MODEL_KEY",
    max_retries: 2,
    timeout_s: 5,
    ...fields,
  });
}

function ask(fields: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: "actor",
    role: "solver",
    episode: "ep-1",
    turn: 0,
    messages: [{ role: "user", content: "What is 2 + 2?" }],
    ...fields,
  };
}

function failed(reply: ModelResponse) {
  assert.equal(
    reply.ok,
    false,
    `expected a failure, got ${JSON.stringify(reply)}`,
  );
  return reply as Extract<ModelResponse, { ok: false }>;
}

function succeeded(reply: ModelResponse) {
  assert.equal(
    reply.ok,
    true,
    `expected a reply, got ${JSON.stringify(reply)}`,
  );
  return reply as Extract<ModelResponse, { ok: true }>;
}

async function withServer(
  queue: FakeAction[],
  fields: Record<string, unknown>,
  body: (
    client: OpenAIModelClient,
    server: Awaited<ReturnType<typeof startOpenAIServer>>,
  ) => Promise<void>,
  latency_ms = 0,
): Promise<void> {
  await using server = await startOpenAIServer({ queue, latency_ms });
  const client = new OpenAIModelClient("actor", modelAt(server.url, fields), {
    env: ENV,
    retry: FAST,
  });
  await body(client, server);
}

Deno.test("OpenAIModelClient.complete() returns text, usage, cost and latency", async () => {
  await using server = await startOpenAIServer({
    latency_ms: 30,
    queue: [{
      kind: "reply",
      reply: {
        text: "<think>2+2</think>The answer is 4.",
        reasoning_content: "adding",
        usage: { prompt_tokens: 1000, completion_tokens: 500 },
        model: "served-name",
      },
    }],
  });
  const model = modelAt(server.url, {
    price: { input_per_mtok: 2, output_per_mtok: 8 },
  });
  const client = new OpenAIModelClient("actor", model, { env: ENV });
  const reply = succeeded(await client.complete(ask()));
  assert.equal(reply.text, "<think>2+2</think>The answer is 4.");
  assert.equal(reply.reasoning, "adding");
  assert.deepEqual(reply.usage, {
    prompt_tokens: 1000,
    completion_tokens: 500,
  });
  assert.equal(reply.cost_usd, (1000 * 2 + 500 * 8) / 1e6);
  assert.ok(reply.latency_ms >= 30, `latency ${reply.latency_ms}`);
  assert.equal(reply.attempts, 1);
  assert.equal(reply.provider, "openai");
  assert.equal(reply.model_name, "served-name");
  assert.equal(reply.finish_reason, "stop");
  assert.deepEqual(reply.tool_calls, []);
  assert.equal(reply.prompt_token_ids, undefined);
});

Deno.test("OpenAIModelClient sends the sampling parameters, extra_body and min_tokens", async () => {
  await withServer([], {
    sampling: {
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 64,
      min_tokens: 4,
      seed: 7,
      stop: ["</answer>"],
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      extra_body: { return_token_ids: true, top_k: 20 },
    },
  }, async (client, server) => {
    succeeded(
      await client.complete(ask({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
          {
            role: "assistant",
            content: "",
            tool_calls: [{
              id: "c1",
              name: "python",
              arguments: '{"code":"1"}',
            }],
          },
          { role: "tool", content: "1", tool_call_id: "c1" },
        ],
      })),
    );
    const [request] = server.requests;
    assert.equal(request?.path, "/v1/chat/completions");
    assert.deepEqual(request?.body, {
      model: "test-model",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{
            id: "c1",
            type: "function",
            function: { name: "python", arguments: '{"code":"1"}' },
          }],
        },
        { role: "tool", content: "1", tool_call_id: "c1" },
      ],
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 64,
      min_tokens: 4,
      seed: 7,
      stop: ["</answer>"],
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      return_token_ids: true,
      top_k: 20,
    });
  });
});

Deno.test("OpenAIModelClient sends a json_schema response_format when the request asks for one", async () => {
  const schema = {
    type: "object",
    properties: { score: { type: "number" } },
    required: ["score"],
    additionalProperties: false,
  };
  await withServer([], {}, async (client, server) => {
    succeeded(
      await client.complete(
        ask({ response_format: { name: "verdict", schema } }),
      ),
    );
    succeeded(await client.complete(ask()));
    const [withFormat, without] = server.requests;
    assert.deepEqual(
      (withFormat?.body as { response_format: unknown }).response_format,
      {
        type: "json_schema",
        json_schema: { name: "verdict", schema, strict: true },
      },
    );
    assert.ok(!Object.hasOwn(without?.body as object, "response_format"));
  });
});

Deno.test("OpenAIModelClient applies the request's sampling over the model's", async () => {
  await withServer([], {
    sampling: { temperature: 0.7, top_p: 0.9, seed: 1, max_tokens: 64 },
  }, async (client, server) => {
    succeeded(
      await client.complete(ask({ sampling: { temperature: 0, seed: 42 } })),
    );
    succeeded(await client.complete(ask({ sampling: { max_tokens: 8 } })));
    const [judge, capped] = server.requests.map((r) =>
      r.body as Record<string, unknown>
    );
    assert.equal(judge?.temperature, 0);
    assert.equal(judge?.seed, 42);
    assert.equal(judge?.top_p, 0.9);
    assert.equal(judge?.max_tokens, 64);
    assert.equal(capped?.temperature, 0.7);
    assert.equal(capped?.seed, 1);
    assert.equal(capped?.max_tokens, 8);
  });
});

Deno.test("OpenAIModelClient sends the API key only in the Authorization header", async () => {
  await withServer(
    [{ kind: "status", status: 401 }],
    {},
    async (client, server) => {
      const reply = failed(await client.complete(ask()));
      assert.equal(client.hasApiKey, true);
      assert.equal(server.requests[0]?.headers.authorization, `Bearer ${KEY}`);
      assert.ok(!server.requests[0]!.raw_body.includes(KEY));
      const elsewhere = Object.entries(server.requests[0]!.headers)
        .filter(([name, value]) =>
          name !== "authorization" && value.includes(KEY)
        );
      assert.deepEqual(elsewhere, []);
      assert.ok(!JSON.stringify(reply).includes(KEY));
      assert.ok(!JSON.stringify(client).includes(KEY));
    },
  );
});

Deno.test("OpenAIModelClient reads the key from Deno.env by default", async () => {
  const name = `MAPPA_TEST_KEY_${crypto.randomUUID().replaceAll("-", "")}`;
  Deno.env.set(name, "sk-from-env");
  try {
    await using server = await startOpenAIServer();
    const client = new OpenAIModelClient(
      "actor",
      modelAt(server.url, { api_key_env: name }),
    );
    succeeded(await client.complete(ask()));
    assert.equal(
      server.requests[0]?.headers.authorization,
      "Bearer sk-from-env",
    );
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("OpenAIModelClient sends a placeholder key when the variable is unset", async () => {
  await withServer(
    [],
    { api_key_env: "UNSET_VARIABLE" },
    async (client, server) => {
      succeeded(await client.complete(ask()));
      assert.equal(client.hasApiKey, false);
      assert.equal(server.requests[0]?.headers.authorization, "Bearer EMPTY");
    },
  );
});

Deno.test("OpenAIModelClient parses tool calls and sends the offered tools", async () => {
  await withServer(
    [{
      kind: "reply",
      reply: {
        text: null,
        tool_calls: [{
          id: "call_a",
          name: "python",
          arguments: '{"code":"print(1)"}',
        }],
      },
    }],
    {},
    async (client, server) => {
      const reply = succeeded(
        await client.complete(ask({
          tools: [{
            name: "python",
            description: "Runs Python",
            parameters: {
              type: "object",
              properties: { code: { type: "string" } },
            },
          }],
        })),
      );
      assert.equal(reply.text, "");
      assert.equal(reply.finish_reason, "tool_calls");
      assert.deepEqual(reply.tool_calls, [
        { id: "call_a", name: "python", arguments: '{"code":"print(1)"}' },
      ]);
      assert.deepEqual((server.requests[0]?.body as { tools: unknown }).tools, [
        {
          type: "function",
          function: {
            name: "python",
            description: "Runs Python",
            parameters: {
              type: "object",
              properties: { code: { type: "string" } },
            },
          },
        },
      ]);
    },
  );
});

Deno.test("OpenAIModelClient keeps token ids and logprobs from the response or the choice", async () => {
  await withServer(
    [
      {
        kind: "reply",
        reply: {
          text: "four",
          prompt_token_ids: [1, 2, 3],
          token_ids: [40, 41],
          logprobs: [-0.25, -1.5],
        },
      },
      {
        kind: "reply",
        reply: {
          prompt_token_ids: [9, 8],
          prompt_ids_on: "choice",
          token_ids: [7],
        },
      },
    ],
    {},
    async (client) => {
      const first = succeeded(await client.complete(ask()));
      assert.deepEqual(first.prompt_token_ids, [1, 2, 3]);
      assert.deepEqual(first.completion_token_ids, [40, 41]);
      assert.deepEqual(first.completion_logprobs, [-0.25, -1.5]);
      const second = succeeded(await client.complete(ask()));
      assert.deepEqual(second.prompt_token_ids, [9, 8]);
      assert.deepEqual(second.completion_token_ids, [7]);
      assert.equal(second.completion_logprobs, undefined);
    },
  );
});

Deno.test("OpenAIModelClient reports a null cost without a price or without usage", async () => {
  await withServer([{ kind: "reply", reply: { usage: null } }], {
    price: { input_per_mtok: 1, output_per_mtok: 1 },
  }, async (client) => {
    const reply = succeeded(await client.complete(ask()));
    assert.equal(reply.cost_usd, null);
    assert.deepEqual(reply.usage, { prompt_tokens: 0, completion_tokens: 0 });
  });
  await withServer([], {}, async (client) => {
    assert.equal(succeeded(await client.complete(ask())).cost_usd, null);
  });
});

Deno.test("OpenAIModelClient waits the Retry-After of a 429, then retries", async (t) => {
  for (
    const headers of [{ "retry-after": "0.2" }, { "retry-after-ms": "200" }]
  ) {
    await t.step(Object.keys(headers)[0]!, async () => {
      await withServer(
        [{ kind: "status", status: 429, headers }, { kind: "reply" }],
        {},
        async (client, server) => {
          const reply = succeeded(await client.complete(ask()));
          assert.equal(reply.attempts, 2);
          const [a, b] = server.requests;
          const waited = b!.received_at - a!.received_at;
          assert.ok(waited >= 195, `retried after ${waited} ms`);
          assert.ok(waited < 1000, `retried after ${waited} ms`);
        },
      );
    });
  }
});

Deno.test("OpenAIModelClient retries a 500 and succeeds", async () => {
  await withServer(
    [{ kind: "status", status: 500 }, { kind: "status", status: 503 }, {
      kind: "reply",
      reply: { text: "third time" },
    }],
    {},
    async (client, server) => {
      const reply = succeeded(await client.complete(ask()));
      assert.equal(reply.text, "third time");
      assert.equal(reply.attempts, 3);
      assert.equal(server.requests.length, 3);
    },
  );
});

Deno.test("OpenAIModelClient reports exhausted retries with the last status", async () => {
  const fault: FakeAction = {
    kind: "status",
    status: 500,
    message: "overloaded",
  };
  await withServer([fault, fault, fault, fault], {}, async (client, server) => {
    const reply = failed(await client.complete(ask()));
    assert.equal(reply.error.kind, "exhausted");
    assert.equal(reply.error.status, 500);
    assert.equal(reply.attempts, 3);
    assert.equal(server.requests.length, 3);
    assert.match(
      reply.error.message,
      /^Cannot get a reply from model "actor" \(test-model at http:\/\/127\.0\.0\.1:\d+\): 3 attempts failed, the last with http: HTTP 500: overloaded$/,
    );
  });
});

Deno.test("OpenAIModelClient does not retry a 400", async () => {
  await withServer(
    [{ kind: "status", status: 400, message: "context too long" }],
    {},
    async (client, server) => {
      const reply = failed(await client.complete(ask()));
      assert.equal(reply.error.kind, "http");
      assert.equal(reply.error.status, 400);
      assert.match(reply.error.message, /HTTP 400: context too long$/);
      assert.equal(reply.attempts, 1);
      assert.equal(server.requests.length, 1);
    },
  );
});

Deno.test("OpenAIModelClient keeps the start of a non-JSON error page", async () => {
  await withServer(
    [{ kind: "status", status: 502, html: "<html>bad gateway</html>" }],
    { max_retries: 0 },
    async (client) => {
      const reply = failed(await client.complete(ask()));
      assert.equal(reply.error.status, 502);
      assert.match(reply.error.message, /HTTP 502: <html>bad gateway<\/html>$/);
    },
  );
});

Deno.test("OpenAIModelClient follows x-should-retry: false on a 500", async () => {
  await withServer(
    [{ kind: "status", status: 500, headers: { "x-should-retry": "false" } }],
    {},
    async (client, server) => {
      const reply = failed(await client.complete(ask()));
      assert.equal(reply.error.kind, "http");
      assert.equal(server.requests.length, 1);
    },
  );
});

Deno.test("OpenAIModelClient times out a hung request within timeout_s", async () => {
  await withServer(
    [{ kind: "hang" }],
    { timeout_s: 0.3, max_retries: 0 },
    async (client) => {
      const started = performance.now();
      const reply = failed(await client.complete(ask()));
      const elapsed = performance.now() - started;
      assert.equal(reply.error.kind, "timeout");
      assert.equal(reply.error.status, undefined);
      assert.match(
        reply.error.message,
        /no complete reply within timeout_s = 0\.3$/,
      );
      assert.ok(
        elapsed >= 290 && elapsed < 1500,
        `gave up after ${elapsed} ms`,
      );
    },
  );
});

Deno.test("OpenAIModelClient retries after a timeout", async () => {
  await withServer(
    [{ kind: "hang" }, { kind: "reply" }],
    { timeout_s: 0.2, max_retries: 1 },
    async (client) => {
      const reply = succeeded(await client.complete(ask()));
      assert.equal(reply.attempts, 2);
    },
  );
});

Deno.test("OpenAIModelClient reports malformed and truncated bodies, and retries them", async (t) => {
  const faults: [string, FakeAction, RegExp][] = [
    ["malformed JSON", { kind: "malformed" }, /not valid JSON/],
    [
      "not a completion",
      { kind: "malformed", body: '{"choices": []}' },
      /at choices:/,
    ],
    [
      "short Content-Length",
      { kind: "truncated" },
      /could not be read in full/,
    ],
    [
      "unfinished chunks",
      { kind: "truncated", framing: "chunked" },
      /could not be read in full/,
    ],
  ];
  for (const [name, fault, message] of faults) {
    await t.step(`${name} is final without retries`, async () => {
      await withServer([fault], { max_retries: 0 }, async (client) => {
        const reply = failed(await client.complete(ask()));
        assert.equal(reply.error.kind, "malformed");
        assert.match(reply.error.message, message);
      });
    });
    await t.step(`${name} is retried`, async () => {
      await withServer([fault, { kind: "reply" }], {}, async (client) => {
        assert.equal(succeeded(await client.complete(ask())).attempts, 2);
      });
    });
  }
});

Deno.test("OpenAIModelClient reports a dropped connection, and retries it", async () => {
  await withServer([{ kind: "reset" }], { max_retries: 0 }, async (client) => {
    const reply = failed(await client.complete(ask()));
    assert.equal(reply.error.kind, "connection");
    assert.match(reply.error.message, /the connection failed/);
  });
  await withServer(
    [{ kind: "reset" }, { kind: "reply" }],
    {},
    async (client) => {
      assert.equal(succeeded(await client.complete(ask())).attempts, 2);
    },
  );
});

Deno.test("OpenAIModelClient reports a refused connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}/v1`;
  listener.close();
  const client = new OpenAIModelClient(
    "actor",
    modelAt(url, { max_retries: 1 }),
    {
      env: ENV,
      retry: FAST,
    },
  );
  const reply = failed(await client.complete(ask()));
  assert.equal(reply.error.kind, "exhausted");
  assert.match(reply.error.message, /the last with connection/);
  assert.equal(reply.attempts, 2);
});

Deno.test("OpenAIModelClient keeps at most max_concurrency requests in flight", async () => {
  await withServer([], { max_concurrency: 2 }, async (client, server) => {
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => client.complete(ask())),
    );
    assert.ok(replies.every((r) => r.ok));
    assert.equal(server.requests.length, 6);
    assert.equal(server.maxInFlight, 2);
  }, 40);
});

Deno.test("OpenAIModelClient without max_concurrency follows the run's ensureConcurrency; an explicit cap stays", async () => {
  await withServer([], {}, async (client, server) => {
    assert.equal(client.maxConcurrency, UNSIZED_MAX_CONCURRENCY);
    client.ensureConcurrency({ actor: 12, other: 99 });
    assert.equal(client.maxConcurrency, 12);
    client.ensureConcurrency({ actor: 3 });
    assert.equal(client.maxConcurrency, 12);
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => client.complete(ask())),
    );
    assert.ok(replies.every((r) => r.ok));
    assert.equal(server.maxInFlight, 12);
  }, 40);
  await withServer([], { max_concurrency: 2 }, (client) => {
    client.ensureConcurrency({ actor: 12 });
    assert.equal(client.maxConcurrency, 2);
    return Promise.resolve();
  });
});

Deno.test("OpenAIModelClient stops waiting when the request is aborted", async (t) => {
  await t.step("during a Retry-After wait", async () => {
    await withServer(
      [{ kind: "status", status: 429, headers: { "retry-after": "30" } }],
      {},
      async (client) => {
        const started = performance.now();
        const reply = failed(
          await client.complete(ask({ signal: AbortSignal.timeout(100) })),
        );
        assert.equal(reply.error.kind, "aborted");
        assert.equal(reply.attempts, 1);
        assert.ok(performance.now() - started < 2000);
      },
    );
  });
  await t.step("during a hung request", async () => {
    await withServer([{ kind: "hang" }], {}, async (client) => {
      const reply = failed(
        await client.complete(ask({ signal: AbortSignal.timeout(100) })),
      );
      assert.equal(reply.error.kind, "aborted");
    });
  });
  await t.step("while waiting for the per-minute limit", async () => {
    await withServer([], { requests_per_minute: 1 }, async (client, server) => {
      succeeded(await client.complete(ask()));
      const reply = failed(
        await client.complete(ask({ signal: AbortSignal.timeout(100) })),
      );
      assert.equal(reply.error.kind, "aborted");
      assert.equal(reply.attempts, 0);
      assert.equal(server.requests.length, 1);
    });
  });
});

Deno.test("OpenAIModelClient refuses a model without base_url", () => {
  assert.throws(
    () => new OpenAIModelClient("actor", modelAt("")),
    { name: "TypeError", message: /base_url is empty/ },
  );
});
