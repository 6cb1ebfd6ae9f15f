import assert from "node:assert/strict";
import { join } from "node:path";
import { startVllmServer } from "./start_vllm_server.ts";

// The fake's own shapes (tests/fakes/vllm_server.py): what vLLM answers, computed for real.

/** A PEFT directory adapting the tiny model's lm_head (d 32, vocab 264) with seeded random A and B. */
async function lmHeadAdapter(seed: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "adapter-" });
  const r = 2;
  let state = seed + 1;
  const rand = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {
    "base_model.model.lm_head.lora_A.weight": {
      shape: [r, 32],
      data: Float32Array.from({ length: r * 32 }, rand),
    },
    "base_model.model.lm_head.lora_B.weight": {
      shape: [264, r],
      data: Float32Array.from({ length: 264 * r }, () => 4 * rand()),
    },
  };
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = {
      dtype: "F32",
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + head.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
  file.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    file.set(new Uint8Array(t.data.buffer), at);
    at += t.data.byteLength;
  }
  await Deno.writeFile(join(dir, "adapter_model.safetensors"), file);
  await Deno.writeTextFile(
    join(dir, "adapter_config.json"),
    JSON.stringify({
      peft_type: "LORA",
      r,
      lora_alpha: 4,
      target_modules: ["lm_head"],
      base_model_name_or_path: "tiny",
    }),
  );
  return dir;
}

async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch { /* plain text */ }
  return { status: res.status, json, text };
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** log p of each prompt token after the first, as /v1/completions' prompt_logprobs says. */
async function promptLogprobs(
  url: string,
  model: string,
  ids: number[],
): Promise<number[]> {
  const r = await post(url, "/v1/completions", {
    model,
    prompt: ids,
    max_tokens: 1,
    prompt_logprobs: 0,
  });
  assert.equal(r.status, 200, r.text);
  const rows = (r.json as Any).choices[0].prompt_logprobs;
  assert.equal(rows[0], null);
  return rows.slice(1).map((row: Any, i: number) =>
    row[String(ids[i + 1])].logprob
  );
}

const PROMPT = [256, 260, 104, 105, 263, 261];

Deno.test("vllm_server.py serves vLLM's model, LoRA and OpenAI endpoints with the tiny model's real numbers", async (t) => {
  await using engine = await startVllmServer();
  const adapter = await lmHeadAdapter(1);

  await t.step("health, then the base model alone in /v1/models", async () => {
    const health = await fetch(`${engine.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "");
    assert.deepEqual(await engine.models(), ["tiny"]);
  });

  await t.step(
    "a PEFT directory loads once (200 text, then 400) and is listed with its root and parent",
    async () => {
      const body = { lora_name: "a@v1", lora_path: adapter };
      const ok = await post(engine.url, "/v1/load_lora_adapter", body);
      assert.equal(ok.status, 200);
      assert.match(ok.text, /^Success: LoRA adapter 'a@v1' added/);
      const again = await post(engine.url, "/v1/load_lora_adapter", body);
      assert.equal(again.status, 400);
      assert.match((again.json as Any).error.message, /already been loaded/);
      const listed = await (await fetch(`${engine.url}/v1/models`)).json();
      assert.deepEqual(
        listed.data.map((m: Any) => [m.id, m.root, m.parent]),
        [["tiny", "tiny", null], ["a@v1", adapter, "tiny"]],
      );
    },
  );

  await t.step(
    "prompt_logprobs are per-position dicts keyed by token id, and the adapter changes them",
    async () => {
      const base = await promptLogprobs(engine.url, "tiny", PROMPT);
      const adapted = await promptLogprobs(engine.url, "a@v1", PROMPT);
      assert.equal(base.length, PROMPT.length - 1);
      assert(base.every((x) => x < 0));
      assert(adapted.some((x, i) => Math.abs(x - base[i]!) > 0.01));
    },
  );

  await t.step(
    "a chat completion returns the ids it rendered and sampled, and their logprobs are the model's",
    async () => {
      const r = await post(engine.url, "/v1/chat/completions", {
        model: "a@v1",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 6,
        temperature: 1,
        return_token_ids: true,
        logprobs: true,
      });
      assert.equal(r.status, 200, r.text);
      const body = r.json as Any;
      assert.equal(body.model, "a@v1");
      assert.deepEqual(body.prompt_token_ids, PROMPT);
      const ids: number[] = body.choices[0].token_ids;
      const lps: number[] = body.choices[0].logprobs.content.map((c: Any) =>
        c.logprob
      );
      assert(ids.length >= 1 && ids.length === lps.length);
      const scored = await promptLogprobs(engine.url, "a@v1", [
        ...PROMPT,
        ...ids,
      ]);
      const tail = scored.slice(PROMPT.length - 1);
      tail.forEach((x, i) => assert(Math.abs(x - lps[i]!) < 1e-4));
      const plain = await post(engine.url, "/v1/chat/completions", {
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 2,
      });
      assert.equal((plain.json as Any).prompt_token_ids, null);
      assert.equal((plain.json as Any).choices[0].token_ids, null);
    },
  );

  await t.step(
    "/tokenize renders with the trainer's byte chat template",
    async () => {
      const r = await post(engine.url, "/tokenize", {
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
        add_generation_prompt: true,
      });
      assert.deepEqual((r.json as Any).tokens, PROMPT);
      assert.equal((r.json as Any).count, PROMPT.length);
    },
  );

  await t.step(
    "an unknown or unloaded model is vLLM's 404 NotFoundError",
    async () => {
      const gone = await post(engine.url, "/v1/unload_lora_adapter", {
        lora_name: "a@v1",
      });
      assert.equal(gone.status, 200);
      for (const path of ["/v1/chat/completions", "/v1/completions"]) {
        const r = await post(engine.url, path, {
          model: "a@v1",
          messages: [{ role: "user", content: "hi" }],
          prompt: [1, 2],
        });
        assert.equal(r.status, 404);
        assert.deepEqual((r.json as Any).error, {
          message: "The model `a@v1` does not exist.",
          type: "NotFoundError",
          param: null,
          code: 404,
        });
      }
      const twice = await post(engine.url, "/v1/unload_lora_adapter", {
        lora_name: "a@v1",
      });
      assert.equal(twice.status, 404);
      const log = await engine.log();
      assert.deepEqual(log.loads, ["a@v1"]);
      assert.deepEqual(log.unloads, ["a@v1"]);
    },
  );
});

Deno.test("vllm_server.py faults: an ignored load, a refused load, no runtime LoRA, another base, other templates", async (t) => {
  // Three processes, faults combined, to keep the test short.
  const [ignoring, refusing, other] = await Promise.all([
    startVllmServer({ fault: "ignore_load", chatTemplate: "alt-system" }),
    startVllmServer({ fault: "refuse_load" }),
    startVllmServer({
      model: "tiny:seed=1",
      servedModelName: "tiny",
      chatTemplate: "alt",
      runtimeLora: false,
    }),
  ]);
  await using _1 = ignoring, _2 = refusing, _3 = other;
  const first = await lmHeadAdapter(1);
  const second = await lmHeadAdapter(2);

  await t.step(
    "ignore_load answers 200 and serves the weights loaded before under the new name",
    async () => {
      const base = await promptLogprobs(ignoring.url, "tiny", PROMPT);
      for (const [name, path] of [["a@v1", first], ["a@v2", second]]) {
        const r = await post(ignoring.url, "/v1/load_lora_adapter", {
          lora_name: name,
          lora_path: path,
        });
        assert.equal(r.status, 200);
      }
      assert.deepEqual(
        await promptLogprobs(ignoring.url, "a@v2", PROMPT),
        base,
      );
    },
  );

  await t.step("refuse_load answers every load with 500", async () => {
    const r = await post(refusing.url, "/v1/load_lora_adapter", {
      lora_name: "a@v1",
      lora_path: first,
    });
    assert.equal(r.status, 500);
    assert.equal((r.json as Any).error.type, "InternalServerError");
  });

  await t.step(
    "without VLLM_ALLOW_RUNTIME_LORA_UPDATING the load route is not mounted; a missing directory is 404",
    async () => {
      const r = await post(other.url, "/v1/load_lora_adapter", {
        lora_name: "a@v1",
        lora_path: first,
      });
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, { detail: "Not Found" });
      const missing = await post(ignoring.url, "/v1/load_lora_adapter", {
        lora_name: "b@v1",
        lora_path: "/nonexistent/adapter",
      });
      assert.equal(missing.status, 404);
      assert.match(
        (missing.json as Any).error.message,
        /No adapter found for \/nonexistent\/adapter/,
      );
    },
  );

  await t.step(
    "another base model scores the same ids differently under the same name",
    async () => {
      const a = await promptLogprobs(refusing.url, "tiny", PROMPT);
      const b = await promptLogprobs(other.url, "tiny", PROMPT);
      assert(b.some((x, i) => Math.abs(x - a[i]!) > 0.01));
    },
  );

  await t.step(
    "alt renders every message differently, alt-system only system messages",
    async () => {
      const tokens = async (url: string, messages: unknown[]) =>
        ((await post(url, "/tokenize", { messages })).json as Any).tokens;
      const user = [{ role: "user", content: "hi" }];
      const system = [{ role: "system", content: "be brief" }, ...user];
      assert.notDeepEqual(await tokens(other.url, user), PROMPT);
      assert.deepEqual(await tokens(ignoring.url, user), PROMPT);
      assert.notDeepEqual(
        await tokens(ignoring.url, system),
        await tokens(refusing.url, system),
      );
    },
  );
});
