/// <reference lib="deno.worker" />
/**
 * A worker for bench/runtime_bench.ts: an OpenAI-compatible chat server on 127.0.0.1 that answers after a
 * fixed latency, with keep-alive as vLLM has. It runs on its own thread so its CPU is not charged to the
 * runtime's event loop (a real model server is another process). The reply: code on a tool role's first
 * turn, then a boxed answer; the role is read from the prompt's first words, "You are <role>.".
 *
 * Messages: in `{ latencyMs }`, out `{ url }`; in `"stats"`, out `{ requests, peak }`; in `"close"`, out `"closed"`.
 */

let inFlight = 0;
let peak = 0;
let requests = 0;
let server: Deno.HttpServer | undefined;

function replyText(messages: { role: string; content: string }[]): string {
  const role = /^You are (\w+)\./.exec(messages[0]?.content ?? "")?.[1];
  const first = !messages.some((m) => m.role === "assistant");
  return role !== "verifier" && first
    ? "I write the file.\n\n```python\nopen('out.txt', 'w').write('42')\nprint(42)\n```"
    : "The program printed 42, so the answer is \\boxed{42}.";
}

self.onmessage = async (event: MessageEvent) => {
  if (event.data === "stats") {
    self.postMessage({ requests, peak });
    return;
  }
  if (event.data === "close") {
    await server?.shutdown();
    self.postMessage("closed");
    return;
  }
  const latencyMs = (event.data as { latencyMs: number }).latencyMs;
  server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) =>
      self.postMessage({ url: `http://127.0.0.1:${port}/v1` }),
  }, async (request) => {
    requests++;
    peak = Math.max(peak, ++inFlight);
    try {
      const body = await request.json() as {
        model: string;
        messages: { role: string; content: string }[];
      };
      await new Promise((r) => setTimeout(r, latencyMs));
      return Response.json({
        id: `chatcmpl-${requests}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: replyText(body.messages) },
          finish_reason: "stop",
        }],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      });
    } finally {
      inFlight--;
    }
  });
};
