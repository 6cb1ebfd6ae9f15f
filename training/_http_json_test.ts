import assert from "node:assert/strict";
import { z } from "zod";
import { HttpCallError, HttpJson, type HttpJsonWording } from "./_http_json.ts";

class TestError extends HttpCallError {}

/** Wording that records what each failure was told, in the error's message. */
const WORDING: HttpJsonWording = {
  unreachable: (call, reason) =>
    new TestError(`unreachable ${call}: ${reason}`, "unreachable", null),
  refused: async (res, call) =>
    new TestError(
      `refused ${call}: ${await res.text()}`,
      "refused",
      res.status,
    ),
  malformed: (call, reply) =>
    new TestError(
      `malformed ${call} json=${reply.json} at ${
        reply.issue.path.join(".") || "the body"
      }`,
      "malformed",
      reply.status,
      reply.data,
    ),
};

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  body: (http: HttpJson) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ port: 0, onListen() {} }, handler);
  try {
    await body(
      new HttpJson(`http://127.0.0.1:${server.addr.port}`, {
        ...WORDING,
        timeoutMs: 5000,
      }),
    );
  } finally {
    await server.shutdown();
  }
}

const Reply = z.object({ n: z.number() });

Deno.test("HttpJson sends a JSON body and parses the reply against the schema", async () => {
  await withServer(async (req) => {
    assert.equal(req.method, "POST");
    assert.equal(new URL(req.url).pathname, "/v1/add");
    assert.equal(req.headers.get("content-type"), "application/json");
    const { a, b } = await req.json();
    return Response.json({ n: a + b });
  }, async (http) => {
    const reply = await http.json(
      { method: "POST", path: "/v1/add", body: { a: 2, b: 3 } },
      Reply,
    );
    assert.deepEqual(reply, { n: 5 });
  });
});

Deno.test("HttpJson words each failure through its client", async (t) => {
  await withServer((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/refuse") return new Response("no", { status: 409 });
    if (path === "/text") return new Response("not json");
    if (path === "/slow") {
      return new Promise((r) => setTimeout(() => r(Response.json({})), 500));
    }
    return Response.json({ n: "one" });
  }, async (http) => {
    const cases: [string, string, Record<string, unknown>][] = [
      ["a status other than 2xx is refused", "/refuse", {
        name: "TestError",
        message: "refused GET /refuse: no",
        status: 409,
      }],
      ["a body that is not JSON is malformed, json false", "/text", {
        message: "malformed GET /text json=false at the body",
        code: "malformed",
        body: undefined,
      }],
      ["JSON of another shape is malformed, with the data", "/shape", {
        message: "malformed GET /shape json=true at n",
        status: 200,
        body: { n: "one" },
      }],
    ];
    for (const [name, path, expected] of cases) {
      await t.step(name, async () => {
        await assert.rejects(
          http.json({ method: "GET", path }, Reply),
          expected,
        );
      });
    }
    await t.step("a call's own timeout overrides the client's", async () => {
      const err = await http.send({
        method: "GET",
        path: "/slow",
        timeoutMs: 50,
      }).catch((e) => e);
      assert(err instanceof TestError && err.code === "unreachable");
      assert.match(err.message, /^unreachable GET \/slow: /);
    });
  });
});
