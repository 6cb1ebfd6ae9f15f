import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelSchema } from "../../dsl/schema.ts";
import { startOpenAIServer } from "../../tests/fakes/openai_server.ts";
import type { ModelClient, ModelRequest } from "../ports.ts";
import { createModelClient } from "./create_model_client.ts";
import { parseModelScript } from "./model_script.ts";

function ask(model: string): ModelRequest {
  return {
    model,
    role: "solver",
    episode: "e1",
    turn: 0,
    messages: [{ role: "user", content: "hi" }],
  };
}

const DEMO: ModelClient = {
  complete: () =>
    Promise.resolve({
      ok: true,
      text: "demo",
      tool_calls: [],
      finish_reason: "stop",
      usage: { prompt_tokens: 0, completion_tokens: 0 },
      latency_ms: 0,
      cost_usd: null,
      attempts: 1,
      provider: "scripted",
      model_name: "demo-policy",
    }),
};

Deno.test("createModelClient() routes each model to its endpoint, script or nothing", async () => {
  await using server = await startOpenAIServer({
    queue: [{ kind: "reply", reply: { text: "from the server" } }],
  });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "replies.yaml"),
      "roles: { solver: [from the file] }",
    );
    const models = {
      actor: ModelSchema.parse({
        model: "qwen",
        base_url: server.url,
        api_key_env: "K",
      }),
      coach: ModelSchema.parse({ model: "gemini", base_url: "" }),
      demo: ModelSchema.parse({
        model: "demo",
        provider: "scripted",
        script: "replies.yaml",
      }),
      inline: ModelSchema.parse({ model: "inline", provider: "scripted" }),
      bare: ModelSchema.parse({ model: "bare", provider: "scripted" }),
    };
    const router = await createModelClient(models, {
      env: () => undefined,
      baseDir: dir,
      scripts: { inline: parseModelScript("default: [inline reply]", "x") },
    });
    assert.deepEqual(router.routes, {
      actor: {
        provider: "openai",
        model_name: "qwen",
        endpoint: new URL(server.url).origin,
        api_key: "unset",
      },
      coach: {
        provider: "unconfigured",
        model_name: "gemini",
        reason: "no_base_url",
        fallback: false,
      },
      demo: {
        provider: "scripted",
        model_name: "demo",
        script: join(dir, "replies.yaml"),
      },
      inline: { provider: "scripted", model_name: "inline", script: "inline" },
      bare: {
        provider: "unconfigured",
        model_name: "bare",
        reason: "no_script",
        fallback: false,
      },
    });
    assert.deepEqual(router.unconfigured, [
      {
        model: "coach",
        reason: "no_base_url",
        message:
          'Cannot call model "coach": no endpoint is configured (base_url is empty)',
        hint: "set models.coach.base_url in the spec, or the variable it reads",
      },
      {
        model: "bare",
        reason: "no_script",
        message:
          'Cannot call model "bare": it is scripted but names no script file',
        hint: "set models.bare.script to a file of replies per role",
      },
    ]);
    assert.equal(router.usesScriptedReplies, true);

    const fromServer = await router.complete(ask("actor"));
    assert.ok(fromServer.ok);
    assert.equal(fromServer.text, "from the server");
    assert.equal(fromServer.provider, "openai");
    const fromFile = await router.complete(ask("demo"));
    assert.ok(fromFile.ok);
    assert.equal(fromFile.text, "from the file");
    assert.equal(fromFile.provider, "scripted");
    const fromInline = await router.complete(ask("inline"));
    assert.ok(fromInline.ok && fromInline.text === "inline reply");

    await assert.rejects(() => router.complete(ask("coach")), {
      name: "ModelNotConfiguredError",
      message:
        'Cannot call model "coach": no endpoint is configured (base_url is empty); set models.coach.base_url in the spec, or the variable it reads',
    });
    await assert.rejects(() => router.complete(ask("critic")), {
      name: "RangeError",
      message:
        'Cannot route a request for model "critic": the spec declares "actor", "coach", "demo", "inline", "bare"',
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createModelClient() sends unconfigured models to the fallback and says so", async () => {
  const router = await createModelClient(
    { actor: ModelSchema.parse({ model: "qwen", base_url: "" }) },
    { fallback: DEMO },
  );
  assert.deepEqual(router.routes.actor, {
    provider: "unconfigured",
    model_name: "qwen",
    reason: "no_base_url",
    fallback: true,
  });
  assert.deepEqual(router.unconfigured.map((u) => u.model), ["actor"]);
  const reply = await router.complete(ask("actor"));
  assert.ok(reply.ok);
  assert.equal(reply.provider, "scripted");
});

Deno.test("createModelClient() reports whether the API key variable is set", async () => {
  const router = await createModelClient({
    named: ModelSchema.parse({
      model: "a",
      base_url: "http://127.0.0.1:9/v1",
      api_key_env: "K",
    }),
    unnamed: ModelSchema.parse({
      model: "b",
      base_url: "http://127.0.0.1:9/v1",
    }),
  }, { env: (name) => (name === "K" ? "secret" : undefined) });
  assert.deepEqual(
    Object.values(router.routes).map((r) =>
      r.provider === "openai" && r.api_key
    ),
    ["set", "not_named"],
  );
  assert.equal(router.usesScriptedReplies, false);
  assert.ok(!JSON.stringify(router).includes("secret"));
});

Deno.test("createModelClient() rejects an invalid script file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "bad.yaml"), "roles:\n  solver: []\n");
    await assert.rejects(
      () =>
        createModelClient({
          demo: ModelSchema.parse({
            model: "d",
            provider: "scripted",
            script: "bad.yaml",
          }),
        }, { baseDir: dir }),
      {
        name: "ModelScriptError",
        message: /bad\.yaml:2:11: roles\.solver: the list of replies is empty/,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
