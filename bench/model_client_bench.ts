// deno-lint-ignore-file no-console -- a benchmark script reports on stdout
/**
 * Times `OpenAIModelClient.complete()` against the loopback fake server, as ratios to a baseline
 * measured in the same run:
 *
 * 1. per-call overhead: sequential calls through the client (openai SDK, limiter, zod check of the
 *    reply) over a bare `fetch` + `JSON.parse` of the same request, zero server latency;
 * 2. concurrency: 256 calls with 200 ms server latency and `max_concurrency: 32`, wall time over the
 *    ideal (256 / 32 × 200 ms).
 *
 * Run with `deno run -A bench/model_client_bench.ts [calls]` (default 500 sequential calls).
 *
 * @module
 */
import { ModelSchema } from "../dsl/schema.ts";
import { OpenAIModelClient } from "../runtime/llm/openai_client.ts";
import type { ModelRequest } from "../runtime/ports.ts";
import { startOpenAIServer } from "../tests/fakes/openai_server.ts";

const CALLS = Number(Deno.args[0] ?? 500);
const WARMUP = 50;

const REQUEST: ModelRequest = {
  model: "actor",
  role: "solver",
  episode: "bench",
  turn: 0,
  messages: [
    { role: "system", content: "You solve competition math problems." },
    { role: "user", content: "What is the sum of the first 100 integers?" },
  ],
};

async function timeEach(
  n: number,
  call: () => Promise<unknown>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    out.push(performance.now() - t);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

{
  await using server = await startOpenAIServer();
  const client = new OpenAIModelClient(
    "actor",
    ModelSchema.parse({ model: "bench", base_url: server.url }),
    { env: () => undefined },
  );
  const body = JSON.stringify({
    model: "bench",
    messages: REQUEST.messages,
  });
  const bare = async () => {
    const r = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer EMPTY",
      },
      body,
    });
    JSON.parse(await r.text());
  };
  const viaClient = async () => {
    const reply = await client.complete(REQUEST);
    if (!reply.ok) throw new Error(reply.error.message);
  };
  await timeEach(WARMUP, bare);
  await timeEach(WARMUP, viaClient);
  const base = median(await timeEach(CALLS, bare));
  const ours = median(await timeEach(CALLS, viaClient));
  console.log(
    `per call (median of ${CALLS}): fetch ${base.toFixed(3)} ms, client ${
      ours.toFixed(3)
    } ms, ` +
      `overhead ${(ours - base).toFixed(3)} ms, ratio ${
        (ours / base).toFixed(2)
      }x`,
  );
}

{
  const latency = 200;
  const limit = 32;
  const calls = 256;
  await using server = await startOpenAIServer({ latency_ms: latency });
  const client = new OpenAIModelClient(
    "actor",
    ModelSchema.parse({
      model: "bench",
      base_url: server.url,
      max_concurrency: limit,
    }),
    { env: () => undefined },
  );
  const t = performance.now();
  const replies = await Promise.all(
    Array.from({ length: calls }, () => client.complete(REQUEST)),
  );
  const wall = performance.now() - t;
  const ideal = (calls / limit) * latency;
  console.log(
    `concurrency: ${calls} calls, ${latency} ms latency, max_concurrency ${limit}: ` +
      `wall ${wall.toFixed(0)} ms, ideal ${ideal} ms, ratio ${
        (wall / ideal).toFixed(3)
      }x, ` +
      `peak in flight ${server.maxInFlight}, failures ${
        replies.filter((r) => !r.ok).length
      }`,
  );
}
