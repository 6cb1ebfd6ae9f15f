import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareDeps } from "../cli/preset.ts";
import { compileFile } from "../dsl/mod.ts";
import {
  type MetricsLine,
  readMetrics,
  readRunEvents,
  startLocalTrainer,
  type StepLine,
  type TrainOptions,
  trainPipeline,
} from "../training/mod.ts";
import { runCli } from "./run_cli.ts";
import { type FakeVllm, startVllmServer } from "./fakes/start_vllm_server.ts";

// deno task train with train.rollout: { engine: vllm }: fake vLLM servers (tests/fakes/vllm_server.py)
// serve the trained roles, the real Python trainer trains them, the spec is tests/specs/train_attribution.yaml.

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const ROLES = ["drafter", "finisher"];

/** The attribution spec named `name`, served by `urls`, written into a fresh directory. */
async function writeSpec(
  name: string,
  urls: readonly string[],
  fields: { steps?: number; maxStaleness?: number; system?: boolean } = {},
): Promise<{ spec: string; dir: string; adapters: string }> {
  const dir = await Deno.makeTempDir({ prefix: "train-vllm-" });
  const adapters = join(dir, "adapters");
  await Deno.mkdir(adapters);
  let text = await Deno.readTextFile(
    join(ROOT, "tests/specs/train_attribution.yaml"),
  );
  text = text
    .replace("name: relay_attribution", `name: ${name}`)
    .replace("  steps: 4", `  steps: ${fields.steps ?? 3}`);
  if (fields.system) {
    text = text.replace(
      '      user: "Topic',
      '      system: "You open a relay."\n      user: "Topic',
    );
  }
  text += `  rollout:
    engine: vllm
    urls: [${urls.join(", ")}]
    adapter_dir: ${adapters}
    max_staleness: ${fields.maxStaleness ?? 0}
    probe_tolerance: 0.001
`;
  const spec = join(dir, "spec.yaml");
  await Deno.writeTextFile(spec, text);
  // The spec reads its data beside it (a spec reads only inside its folder).
  await Deno.mkdir(join(dir, "data", "relay"), { recursive: true });
  for (const split of ["train", "eval"]) {
    await Deno.copyFile(
      join(ROOT, `tests/specs/data/relay/${split}.jsonl`),
      join(dir, `data/relay/${split}.jsonl`),
    );
  }
  return { spec, dir, adapters };
}

/** Runs the spec in this process against a running trainer; notes are collected. */
async function train(
  spec: string,
  trainer: string,
  options: Partial<TrainOptions> = {},
): Promise<{ dir: string; notes: string[] }> {
  const compiled = compileFile(spec);
  assert(compiled.ok, compiled.ok ? "" : compiled.diagnostics[0]!.message);
  const graph = compiled.graph;
  const prepared = await prepareDeps(graph, {
    command: "train",
    spec,
    noCoach: false,
    forceCoach: true,
    // The relay roles run no code: the sandbox is never used.
    unsafeNoSandbox: true,
    servedRoles: graph.train!.roles,
  });
  assert(prepared.ok);
  const notes: string[] = [];
  const done = await trainPipeline(graph, {
    model: prepared.deps.model,
    sandbox: prepared.deps.sandbox,
    ...(prepared.deps.coach ? { coach: prepared.deps.coach } : {}),
  }, {
    trainer,
    outDir: join(dirname(spec), "runs"),
    onNote: (n) => notes.push(n),
    ...options,
  });
  assert.equal(done.status, "completed");
  return { dir: done.dir, notes };
}

function steps(lines: MetricsLine[]): StepLine[] {
  return lines.filter((l): l is StepLine => l.type === "step");
}

function assertVersionChain(lines: StepLine[]): void {
  for (const role of ROLES) {
    let version = 0;
    for (const line of lines) {
      const r = line.roles[role]!;
      assert.equal(r.version_before, version, `step ${line.step} ${role}`);
      assert.equal(r.version, r.skipped ? version : version + 1);
      version = r.version;
    }
  }
}

async function onlyRun(root: string): Promise<string> {
  const dirs = [];
  for await (const e of Deno.readDir(root)) if (e.isDirectory) dirs.push(e);
  assert.equal(dirs.length, 1);
  return join(root, dirs[0]!.name);
}

Deno.test("deno task train with train.rollout vllm: rollouts from verified adapters on fake vLLM servers", async (t) => {
  const trainer = await startLocalTrainer({
    backend: "tiny",
    baseModel: "tiny",
    outDir: await Deno.makeTempDir(),
    seed: 0,
  });
  const engines: FakeVllm[] = [];
  try {
    await t.step(
      "two engines share the requests; each version is delivered, verified, and the ones past max_staleness unloaded",
      async () => {
        const [a, b] = await Promise.all([
          startVllmServer(),
          startVllmServer(),
        ]);
        engines.push(a, b);
        const { spec } = await writeSpec("vllm_happy", [a.url, b.url], {
          maxStaleness: 1,
        });
        const { dir, notes } = await train(spec, trainer.url);
        const runId = dir.split("/").at(-1)!;
        const lines = steps(await readMetrics(dir));
        assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
        assertVersionChain(lines);
        const nameOf = (role: string, v: number) => `${runId}.${role}@v${v}`;
        for (const line of lines) {
          const served = line.rollout!;
          assert.deepEqual(Object.keys(served.requests), [a.url, b.url]);
          // 4 tasks x 2 samples x 2 roles, spread over both engines.
          assert.equal(served.requests[a.url]! + served.requests[b.url]!, 16);
          assert(served.requests[a.url]! > 0 && served.requests[b.url]! > 0);
          for (const role of ROLES) {
            const r = served.roles[role]!;
            const version = line.roles[role]!.version_before;
            assert.equal(r.name, nameOf(role, version));
            assert(r.mean_abs_delta < 1e-4, `${r.mean_abs_delta}`);
            if (version === 0) assert.equal(r.against, "the base model");
            else {
              // After an update the probe (a real completion it was trained on) tells the versions apart.
              assert.match(r.against, /^v\d+$/);
              assert(r.against_mean_abs_delta > 1e-3);
            }
          }
        }
        // Every action's ids and its version come from the engine's own replies.
        const logs = [await a.log(), await b.log()];
        const sent = new Set(
          logs.flatMap((l) => l.requests).filter((r) => r.endpoint === "chat")
            .map((r) => JSON.stringify([r.prompt_token_ids, r.token_ids])),
        );
        for (const line of lines) {
          const events = await readRunEvents(join(dir, line.run));
          for (const e of events) {
            if (e.kind !== "action") continue;
            const call = e.model_call;
            const version = line.roles[e.role!]!.version_before;
            assert.equal(call.model_name, nameOf(e.role!, version));
            assert.equal(call.policy_version, version);
            assert(
              sent.has(JSON.stringify([
                call.prompt_token_ids,
                call.completion_token_ids,
              ])),
            );
          }
        }
        // max_staleness 1: the two newest versions stay loaded, the older ones were unloaded.
        const last = lines.at(-1)!;
        const loaded = ["tiny"];
        const unloaded = [];
        for (const role of ROLES) {
          const used = [
            ...new Set([
              ...lines.map((l) => l.roles[role]!.version_before),
              last.roles[role]!.version,
            ]),
          ].sort((x, y) => x - y);
          loaded.push(...used.slice(-2).map((v) => nameOf(role, v)));
          unloaded.push(...used.slice(0, -2).map((v) => nameOf(role, v)));
        }
        for (const engine of [a, b]) {
          assert.deepEqual((await engine.models()).sort(), loaded.sort());
          assert.deepEqual(
            (await engine.log()).unloads.sort(),
            unloaded.sort(),
          );
        }
        assert(notes.some((n) => n.startsWith("rollouts: vLLM at")));
      },
    );

    await t.step(
      "an engine that restarts between steps gets its adapters reloaded and re-verified, and the run goes on",
      async () => {
        let engine = await startVllmServer();
        engines.push(engine);
        const { spec } = await writeSpec("vllm_restart", [engine.url]);
        // After the evaluation of step 2, v2 is loaded: the engine crashes and comes back empty.
        const { dir, notes } = await train(spec, trainer.url, {
          onLine: async (line) => {
            if (line.type !== "eval" || line.step !== 2) return;
            await engine.stop();
            engine = await startVllmServer({ port: engine.port });
            engines.push(engine);
          },
        });
        const lines = steps(await readMetrics(dir));
        assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
        assertVersionChain(lines);
        const runId = dir.split("/").at(-1)!;
        assert(
          notes.some((n) =>
            n.includes(
              `lost ${runId}.drafter@v2, ${runId}.finisher@v2 (it restarted): reloading and verifying them`,
            )
          ),
          notes.join("\n"),
        );
        assert(
          notes.some((n) =>
            n.startsWith(
              `vLLM: ${runId}.drafter@v2 loaded on ${engine.url} and verified`,
            )
          ),
          notes.join("\n"),
        );
        const log = await engine.log();
        assert.deepEqual(log.loads, [
          `${runId}.drafter@v2`,
          `${runId}.finisher@v2`,
          `${runId}.drafter@v3`,
          `${runId}.finisher@v3`,
        ]);
        // Step 3 ran on the reloaded v2.
        const events = await readRunEvents(join(dir, "steps", "step_0003"));
        assert.equal(
          log.requests.filter((r) =>
            r.endpoint === "chat" && r.model === `${runId}.drafter@v2`
          ).length,
          events.filter((e) => e.kind === "action" && e.role === "drafter")
            .length,
        );
      },
    );

    await t.step(
      "a chat template that renders the role's system message differently stops the run naming the role; --resume finishes it",
      async () => {
        const engine = await startVllmServer({ chatTemplate: "alt-system" });
        engines.push(engine);
        const { spec, dir } = await writeSpec("vllm_template", [engine.url], {
          steps: 1,
          system: true,
        });
        const failed = await train(spec, trainer.url).then(
          () => undefined,
          (e) => e,
        );
        assert(failed instanceof Error);
        assert.match(
          failed.message,
          /^Cannot train role "drafter" on vLLM engine at http:\/\/127\.0\.0\.1:\d+: the engine's prompt token ids differ from the trainer's rendering at token 1 \(engine 260, trainer 259\) for the role's messages; the engine must render chats with the trainer's chat template/,
        );
        await engine.stop();
        const fixed = await startVllmServer({ port: engine.port });
        engines.push(fixed);
        const run = await onlyRun(join(dir, "runs"));
        await train(spec, trainer.url, { resume: run });
        assert.deepEqual(steps(await readMetrics(run)).map((l) => l.step), [1]);
      },
    );
  } finally {
    for (const e of engines) await e.stop();
    await trainer.stop();
  }
});

Deno.test("deno task train: an engine that keeps serving the old adapter fails the step with the probe's gap; --resume continues", async () => {
  const trainer = await startLocalTrainer({
    backend: "tiny",
    baseModel: "tiny",
    outDir: await Deno.makeTempDir(),
    seed: 0,
  });
  let engine = await startVllmServer({ fault: "ignore_load" });
  try {
    const { spec, dir } = await writeSpec("vllm_stale", [engine.url]);
    const out = join(dir, "runs");
    const ran = await runCli([
      "train",
      spec,
      "--out",
      out,
      "--trainer",
      trainer.url,
    ]);
    assert.equal(ran.code, 2, ran.stderr);
    const run = await onlyRun(out);
    const runId = run.split("/").at(-1)!;
    assert.match(
      ran.stderr,
      new RegExp(
        `mappa: Cannot use adapter "${runId}\\.drafter@v1" \\(policy "${runId}\\.drafter", version 1\\) on vLLM engine at ${engine.url}: its logprobs of the probe differ from the trainer's by mean \\|Δ\\| [\\d.e-]+, max \\|Δ\\| [\\d.e-]+ at token \\d+ \\(probe_tolerance 0\\.001; v0 is [\\d.e-]+ from the trainer's new version, the engine's noise [\\d.e-]+\\), and equal those of v0 \\(mean \\|Δ\\| 0\\): the engine still serves v0; check`,
      ),
    );
    assert.match(ran.stderr, /continue it with: deno task train .* --resume /);
    assert.deepEqual(steps(await readMetrics(run)).map((l) => l.step), [1]);

    await engine.stop();
    engine = await startVllmServer({ port: engine.port });
    const resumed = await runCli([
      "train",
      spec,
      "--out",
      out,
      "--trainer",
      trainer.url,
      "--resume",
      run,
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const lines = steps(await readMetrics(run));
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
    assertVersionChain(lines);
    // The resumed session loads under new names, so nothing it serves can be a stale copy.
    assert.equal(
      lines[1]!.rollout!.roles.drafter!.name,
      `${runId}.drafter@v1.r2`,
    );
  } finally {
    await engine.stop();
    await trainer.stop();
  }
});
