/**
 * Concurrent vs sequential generation through the built-in trainer service (`python -m trainer serve`),
 * over HTTP the way `deno task train` samples: chat completions for one policy.
 *
 *   deno task bench:generation [requests=16] [max_tokens=128] [backend=tiny] [base_model=tiny]
 *
 * Prints tokens/s for the requests sent one after another and for the same number sent at once, and the
 * ratio (the batching gain), plus the median keep-alive round trip of a tiny request (Nagle/delayed-ACK
 * stalls showed as ~45 ms there).
 */
import { join } from "node:path";
import { startLocalTrainer } from "../training/local_trainer.ts";

const [requests = 16, maxTokens = 128] = Deno.args.slice(0, 2).map(Number);
const backend = (Deno.args[2] ?? "tiny") as "tiny" | "hf";
const baseModel = Deno.args[3] ?? "tiny";

const dir = await Deno.makeTempDir({ prefix: "mappa-genbench-" });
const trainer = await startLocalTrainer({
  backend,
  baseModel,
  outDir: join(dir, "trainer"),
  seed: 0,
});

async function call(path: string, body: unknown, method = "POST") {
  const r = await fetch(`${trainer.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

async function chat(i: number): Promise<number> {
  const data = await call("/v1/chat/completions", {
    model: "bench",
    messages: [{
      role: "user",
      content: `Question ${i}: ${"why ".repeat(i % 7)}`,
    }],
    max_tokens: maxTokens,
    temperature: 1,
  });
  return data.usage.completion_tokens as number;
}

async function timed(run: () => Promise<number[]>) {
  const t0 = performance.now();
  const tokens = (await run()).reduce((a, b) => a + b, 0);
  const s = (performance.now() - t0) / 1000;
  return { tokens, s, tps: tokens / s };
}

try {
  await call("/v1/policies/bench", {}, "PUT");
  await chat(0); // warm-up
  const ids = [...Array(requests).keys()];
  const sequential = await timed(async () => {
    const out: number[] = [];
    for (const i of ids) out.push(await chat(i));
    return out;
  });
  const concurrent = await timed(() => Promise.all(ids.map(chat)));
  const rtts: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await (await fetch(`${trainer.url}/v1/health`)).arrayBuffer();
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);
  const row = (name: string, r: typeof sequential) =>
    `${name.padEnd(12)} ${String(r.tokens).padStart(7)} tokens ${
      r.s.toFixed(2).padStart(7)
    } s ${r.tps.toFixed(0).padStart(7)} tokens/s`;
  const info = await (await fetch(`${trainer.url}/v1/info`)).json();
  const lines = [
    `backend ${backend} (${baseModel}), batching ${info.capabilities.batching}, ${requests} chat requests of up to ${maxTokens} tokens`,
    row("sequential", sequential),
    row("concurrent", concurrent),
    `concurrent / sequential tokens/s: ${
      (concurrent.tps / sequential.tps).toFixed(2)
    }x`,
    `keep-alive round trip (GET /v1/health), median of 30: ${
      rtts[15]!.toFixed(1)
    } ms`,
  ];
  await Deno.stdout.write(new TextEncoder().encode(lines.join("\n") + "\n"));
} finally {
  await trainer.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
