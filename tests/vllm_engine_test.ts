import assert from "node:assert/strict";
import type { Model } from "../dsl/mod.ts";
import type { ModelRequest, ModelResponse } from "../runtime/mod.ts";
import {
  policyConfig,
  startLocalTrainer,
  TrainerClient,
  VllmEngine,
  type VllmEngineOptions,
} from "../training/mod.ts";
import { compileFile } from "../dsl/mod.ts";
import { startVllmServer } from "./fakes/start_vllm_server.ts";

// VllmEngine against fake vLLM servers (tests/fakes/vllm_server.py) and the real Python trainer.

const MODEL: Model = {
  provider: "openai",
  model: "tiny",
  sampling: { temperature: 1, top_p: 1, max_tokens: 4 },
  max_concurrency: 16,
  timeout_s: 30,
  max_retries: 0,
} as Model;

function request(text: string): ModelRequest {
  return {
    model: "tiny",
    role: "drafter",
    episode: "e1",
    turn: 0,
    messages: [{ role: "user", content: text }],
  };
}

function ok(res: ModelResponse): Extract<ModelResponse, { ok: true }> {
  assert(res.ok, res.ok ? "" : res.error.message);
  return res;
}

async function fails(p: Promise<unknown>, pattern: RegExp): Promise<string> {
  const e = await p.then(() => undefined, (e) => e);
  assert(e instanceof Error, "expected an error");
  assert.match(e.message, pattern);
  return e.message;
}

Deno.test("VllmEngine delivers, verifies, routes and retires adapters on fake vLLM servers", async (t) => {
  const graph = compileFile("tests/specs/train_attribution.yaml");
  assert(graph.ok && graph.graph.train);
  const trainer = await startLocalTrainer({
    backend: "tiny",
    baseModel: "tiny",
    outDir: await Deno.makeTempDir(),
    seed: 0,
  });
  const [a, b, ignoring, refusing, otherBase, otherTemplate, locked] =
    await Promise.all([
      startVllmServer({ latencyMs: 800 }),
      startVllmServer({ latencyMs: 800 }),
      startVllmServer({ fault: "ignore_load" }),
      startVllmServer({ fault: "refuse_load" }),
      startVllmServer({ model: "tiny:seed=1", servedModelName: "tiny" }),
      startVllmServer({ chatTemplate: "alt" }),
      startVllmServer({ runtimeLora: false }),
    ]);
  await using _a = a, _b = b, _i = ignoring, _r = refusing;
  await using _o = otherBase, _t = otherTemplate, _l = locked;
  const client = new TrainerClient(trainer.url);
  await client.putPolicy("drafter", policyConfig(graph.graph.train));
  const notes: string[] = [];
  const options = (
    urls: string[],
    extra: Partial<VllmEngineOptions> = {},
  ): VllmEngineOptions => ({
    urls,
    adapterDir: Deno.makeTempDirSync(),
    runId: "run1",
    session: 1,
    roles: ["drafter"],
    policyOf: (r) => r,
    trainer: client,
    baseModel: "tiny",
    tolerance: 1e-3,
    onNote: (n) => notes.push(n),
    ...extra,
  });

  try {
    await t.step(
      "requests go to the engine with the fewest in flight, stamped with the version of the name used",
      async () => {
        const engine = await VllmEngine.open(options([a.url, b.url]));
        await engine.sync({ drafter: 0 });
        const replies = await Promise.all(
          ["one", "two", "three", "four"].map((s) =>
            engine.complete("drafter", MODEL, request(s))
          ),
        );
        for (const r of replies) {
          assert.equal(ok(r).policy_version, 0);
          assert.equal(ok(r).model_name, "run1.drafter@v0");
        }
        const counts = [
          (await a.log()).requests.filter((x) => x.endpoint === "chat").length,
          (await b.log()).requests.filter((x) => x.endpoint === "chat").length,
        ];
        assert.deepEqual(counts, [2, 2]);
        assert.deepEqual(engine.report().requests, {
          [a.url]: 2,
          [b.url]: 2,
        });
        await engine.close();
      },
    );

    await t.step(
      "a new version is verified against the trainer; the old one is unloaded once its last request ends",
      async () => {
        const engine = await VllmEngine.open(
          options([a.url, b.url], { runId: "run2" }),
        );
        await engine.sync({ drafter: 0 });
        const replies = await Promise.all(
          ["a", "b", "c", "d"].map((s) =>
            engine.complete("drafter", MODEL, request(s)).then(ok)
          ),
        );
        const done = await client.train({
          policy_id: "drafter",
          expected_version: 0,
          idempotency_key: "engine-test-1",
          samples: replies.map((r, i) => ({
            sample_id: `s${i}`,
            trajectory_id: `t${i}`,
            action_index: 0,
            policy_version: 0,
            prompt_token_ids: [...r.prompt_token_ids!],
            completion_token_ids: [...r.completion_token_ids!],
            reward: i % 2,
          })),
        });
        assert.equal(done.new_version, 1);
        engine.setProbe(
          "drafter",
          replies[0]!.prompt_token_ids!,
          replies[0]!.completion_token_ids!,
        );
        const inFlight = engine.complete("drafter", MODEL, request("slow"));
        await new Promise((r) => setTimeout(r, 30));
        await engine.sync({ drafter: 1 });
        const report = engine.report().roles.drafter!;
        assert.equal(report.name, "run2.drafter@v1");
        assert(report.mean_abs_delta < 1e-4, `${report.mean_abs_delta}`);
        assert.equal(report.against, "v0");
        // The probe is the action trained on: v1 scores it far from v0.
        assert(report.against_mean_abs_delta > 1e-3);
        // v0 still has a request in flight: it stays loaded until it ends.
        const loaded = [...await a.models(), ...await b.models()];
        assert(loaded.includes("run2.drafter@v0"));
        assert.equal(ok(await inFlight).policy_version, 0);
        await engine.close();
        for (const e of [a, b]) {
          const names = await e.models();
          assert(!names.includes("run2.drafter@v0"), `${names}`);
          assert(names.includes("run2.drafter@v1"));
        }
        assert.equal(
          ok(await engine.complete("drafter", MODEL, request("new")))
            .policy_version,
          1,
        );
      },
    );

    await t.step(
      "an engine serving the old weights under the new name fails the probe, naming policy, version and gap",
      async () => {
        const engine = await VllmEngine.open(
          options([ignoring.url], { runId: "run3" }),
        );
        // The trainer is at v1 now; the ignored load leaves the base (v0's weights) under the v1 name.
        await fails(
          engine.sync({ drafter: 1 }),
          /Cannot use adapter "run3\.drafter@v1" \(policy "drafter", version 1\) on vLLM engine at .*: its logprobs of the probe differ from the trainer's by mean \|Δ\| [\d.e-]+, max \|Δ\| [\d.e-]+ at token \d+ \(probe_tolerance 0\.001; the base model is [\d.e-]+ from the trainer's new version, the engine's noise [\d.e-]+\), and equal those of the base model .*: the engine still serves the base model; check the engine's base model, --max-lora-rank, VLLM_ALLOW_RUNTIME_LORA_UPDATING=True/,
        );
      },
    );

    await t.step(
      "within probe_tolerance of both versions is not enough: the engine must be measurably closer to the new one",
      async () => {
        const engine = await VllmEngine.open(
          options([ignoring.url], { runId: "run4", tolerance: 10 }),
        );
        await fails(
          engine.sync({ drafter: 1 }),
          /Cannot use adapter "run4\.drafter@v1" .*\(probe_tolerance 10; the base model is [\d.e-]+ from the trainer's new version, the engine's noise [\d.e-]+\), and equal those of the base model .*: the engine still serves the base model/,
        );
        const fine = await VllmEngine.open(
          options([a.url], { runId: "run4b", tolerance: 10 }),
        );
        await fine.sync({ drafter: 1 });
        assert.equal(fine.report().roles.drafter!.discriminative, true);
        await fine.close();
      },
    );

    await t.step(
      "train and eval requests at one version each keep their own sampling",
      async () => {
        const engine = await VllmEngine.open(
          options([b.url], { runId: "run5" }),
        );
        await engine.sync({ drafter: 1 });
        const evalModel = {
          ...MODEL,
          sampling: { temperature: 0.3, top_p: 0.5, max_tokens: 4, seed: 7 },
        } as Model;
        const trainModel = {
          ...MODEL,
          sampling: {
            temperature: 1,
            top_p: 1,
            max_tokens: 4,
            extra_body: { top_k: 0, min_p: 0, repetition_penalty: 1 },
          },
        } as Model;
        ok(await engine.complete("drafter", evalModel, request("eval")));
        ok(await engine.complete("drafter", trainModel, request("train")));
        const sent = (await b.log()).requests.filter((r) =>
          r.endpoint === "chat" && r.model === "run5.drafter@v1"
        ).map((r) => r.sampling);
        assert.deepEqual(sent, [
          { temperature: 0.3, top_p: 0.5, max_tokens: 4, seed: 7 },
          {
            temperature: 1,
            top_p: 1,
            max_tokens: 4,
            top_k: 0,
            min_p: 0,
            repetition_penalty: 1,
          },
        ]);
        await engine.close();
      },
    );

    await t.step(
      "a refused load stops with the engine's reason and the flags to check",
      async () => {
        const engine = await VllmEngine.open(options([refusing.url]));
        await fails(
          engine.sync({ drafter: 1 }),
          /Cannot load adapter "run1\.drafter@v1" \(policy "drafter", version 1\) into vLLM engine at .*: it answered HTTP 500: Loading lora .* failed: .*; check --enable-lora, --max-lora-rank/,
        );
        const locked2 = await VllmEngine.open(options([locked.url]));
        await fails(
          locked2.sync({ drafter: 1 }),
          /it has no \/v1\/load_lora_adapter; start it with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True/,
        );
      },
    );

    await t.step(
      "another base model, another chat template, a dead URL and a missing adapter_dir are refused at open",
      async () => {
        await fails(
          VllmEngine.open(options([otherBase.url])),
          /Cannot use vLLM engine at .*: its base model "tiny" scores a fixed probe unlike the trainer's base model "tiny" \(mean \|Δ logprob\| [\d.]+/,
        );
        await fails(
          VllmEngine.open(options([otherTemplate.url])),
          /Cannot serve roles "drafter" from vLLM engine at .*: the engine's prompt token ids differ from the trainer's rendering at token \d+ \(engine 10, trainer \d+\) on a test conversation; the engine must render chats with the trainer's chat template/,
        );
        await fails(
          VllmEngine.open(options(["http://127.0.0.1:9"])),
          /^Cannot reach vLLM engine at http:\/\/127\.0\.0\.1:9 \(GET \/health\): .*; start it \(docs\/vllm\.md\) or fix train\.rollout\.urls$/,
        );
        await fails(
          VllmEngine.open(
            options([a.url], { adapterDir: "/nonexistent/adapters" }),
          ),
          /^Cannot deliver adapters into train\.rollout\.adapter_dir "\/nonexistent\/adapters": it does not exist; create it/,
        );
      },
    );
  } finally {
    await trainer.stop();
  }
});

Deno.test("VllmEngine reloads and re-verifies the adapters of an engine that restarted, then retries the request", async () => {
  const graph = compileFile("tests/specs/train_attribution.yaml");
  assert(graph.ok && graph.graph.train);
  const trainer = await startLocalTrainer({
    backend: "tiny",
    baseModel: "tiny",
    outDir: await Deno.makeTempDir(),
    seed: 0,
  });
  let fake = await startVllmServer();
  try {
    const client = new TrainerClient(trainer.url);
    await client.putPolicy("drafter", policyConfig(graph.graph.train));
    const notes: string[] = [];
    const engine = await VllmEngine.open({
      urls: [fake.url],
      adapterDir: await Deno.makeTempDir(),
      runId: "r",
      session: 2,
      roles: ["drafter"],
      policyOf: (r) => r,
      trainer: client,
      tolerance: 1e-3,
      onNote: (n) => notes.push(n),
    });
    await engine.sync({ drafter: 0 });
    ok(await engine.complete("drafter", MODEL, request("before")));
    // A crash and a restart on the same port: the adapters are gone, the next request gets a 404.
    await fake.stop();
    fake = await startVllmServer({ port: fake.port });
    const after = ok(await engine.complete("drafter", MODEL, request("after")));
    assert.equal(after.model_name, "r.drafter@v0.r2");
    assert.equal(after.policy_version, 0);
    assert.deepEqual((await fake.log()).loads, ["r.drafter@v0.r2"]);
    assert(
      notes.some((n) =>
        /lost r\.drafter@v0\.r2 \(it restarted\): reloading and verifying/
          .test(n)
      ),
      notes.join("\n"),
    );
    // Restarted with another base model: the re-check fails and stops the engine.
    await fake.stop();
    fake = await startVllmServer({
      port: fake.port,
      model: "tiny:seed=1",
      servedModelName: "tiny",
    });
    const res = await engine.complete("drafter", MODEL, request("again"));
    assert(!res.ok);
    assert(engine.signal.aborted);
    assert.match(engine.failure!.message, /its base model "tiny" scores/);
    await fails(engine.sync({ drafter: 0 }), /its base model "tiny" scores/);
    await engine.close();
  } finally {
    await fake.stop();
    await trainer.stop();
  }
});
