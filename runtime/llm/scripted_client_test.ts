import assert from "node:assert/strict";
import type { ModelRequest, ModelResponse } from "../ports.ts";
import { parseModelScript } from "./model_script.ts";
import { ScriptedModelClient } from "./scripted_client.ts";

const SCRIPT = parseModelScript(
  `
roles:
  solver:
    - "Let me compute."
    - text: "Running code"
      reasoning: "try python"
      tool_calls: [{ name: python, arguments: { code: "print(2 + 2)" } }]
    - "\\\\boxed{4}"
  verifier: ["Looks right"]
tasks:
  t7:
    solver: ["Task seven"]
`,
  "demo.yaml",
);

function ask(role: string, episode = "e1", extra: Partial<ModelRequest> = {}) {
  return {
    model: "m",
    role,
    episode,
    turn: 0,
    messages: [{ role: "user" as const, content: "12345678" }],
    ...extra,
  };
}

function texts(replies: ModelResponse[]): string[] {
  return replies.map((r) => (r.ok ? r.text : `error: ${r.error.kind}`));
}

Deno.test("ScriptedModelClient answers turn k of a role with reply k, then repeats the last", async () => {
  const client = new ScriptedModelClient(SCRIPT, { modelName: "demo-policy" });
  const replies = [];
  for (let i = 0; i < 5; i++) {
    replies.push(await client.complete(ask("solver")));
  }
  assert.deepEqual(texts(replies), [
    "Let me compute.",
    "Running code",
    "\\boxed{4}",
    "\\boxed{4}",
    "\\boxed{4}",
  ]);
  const second = replies[1]!;
  assert.ok(second.ok);
  assert.equal(second.reasoning, "try python");
  assert.deepEqual(second.tool_calls, [
    {
      id: "scripted_1_0",
      name: "python",
      arguments: '{"code":"print(2 + 2)"}',
    },
  ]);
  assert.equal(second.finish_reason, "tool_calls");
  assert.equal(second.provider, "scripted");
  assert.equal(second.model_name, "demo-policy");
  assert.equal(second.cost_usd, null);
  assert.equal(second.attempts, 1);
  assert.deepEqual(second.usage, { prompt_tokens: 2, completion_tokens: 3 });
});

Deno.test("ScriptedModelClient counts turns per episode and role", async () => {
  const client = new ScriptedModelClient(SCRIPT);
  const replies = [
    await client.complete(ask("solver", "e1")),
    await client.complete(ask("verifier", "e1")),
    await client.complete(ask("solver", "e2")),
    await client.complete(ask("solver", "e1")),
  ];
  assert.deepEqual(texts(replies), [
    "Let me compute.",
    "Looks right",
    "Let me compute.",
    "Running code",
  ]);
});

Deno.test("ScriptedModelClient cycles when after_last is cycle", async () => {
  const client = new ScriptedModelClient(
    parseModelScript("after_last: cycle\nroles: { a: [x, y] }", "c.yaml"),
  );
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await client.complete(ask("a")));
  assert.deepEqual(texts(replies), ["x", "y", "x", "y", "x"]);
});

Deno.test("ScriptedModelClient uses per-task overrides, by task or else by episode", async () => {
  const client = new ScriptedModelClient(SCRIPT);
  const byEpisode = await client.complete(ask("solver", "t7"));
  const byTask = await client.complete(
    { ...ask("solver", "t7#2"), task: "t7" } as ModelRequest,
  );
  const notOverridden = await client.complete(ask("verifier", "t7"));
  assert.deepEqual(texts([byEpisode, byTask, notOverridden]), [
    "Task seven",
    "Task seven",
    "Looks right",
  ]);
});

Deno.test("ScriptedModelClient falls back to default, and reports a role without replies", async () => {
  const withDefault = new ScriptedModelClient(
    parseModelScript("default: [generic]", "d.yaml"),
  );
  assert.deepEqual(texts([await withDefault.complete(ask("anyone"))]), [
    "generic",
  ]);
  assert.equal(withDefault.answers("anyone"), true);

  const client = new ScriptedModelClient(SCRIPT, { file: "demo.yaml" });
  assert.equal(client.answers("coder"), false);
  const reply = await client.complete(ask("coder"));
  assert.ok(!reply.ok);
  assert.equal(reply.provider, "scripted");
  assert.equal(reply.error.kind, "malformed");
  assert.equal(
    reply.error.message,
    'Cannot answer role "coder" from demo.yaml: it has no replies for this role; add roles.coder (or default) to the script',
  );
});

Deno.test("ScriptedModelClient reports an aborted request", async () => {
  const client = new ScriptedModelClient(SCRIPT);
  const controller = new AbortController();
  controller.abort();
  const reply = await client.complete(
    ask("solver", "e1", { signal: controller.signal }),
  );
  assert.ok(!reply.ok);
  assert.equal(reply.error.kind, "aborted");
});
