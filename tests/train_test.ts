import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./run_cli.ts";
import {
  type MetricsLine,
  readMetrics,
  readRunEvents,
  startLocalTrainer,
  type StepLine,
} from "../training/mod.ts";
import { writeOneStepAttributionSpec } from "./fixtures/training_fixtures.ts";

const SPEC = "tests/specs/train_attribution.yaml";

async function onlyDir(root: string): Promise<string> {
  const dirs = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isDirectory) dirs.push(e.name);
  }
  assert.equal(dirs.length, 1, `expected one training run in ${root}: ${dirs}`);
  return join(root, dirs[0]!);
}

function steps(lines: MetricsLine[]): StepLine[] {
  return lines.filter((l): l is StepLine => l.type === "step");
}

/** Each role's version moves by exactly one per update and never otherwise, across the whole run. */
function assertVersionChain(lines: StepLine[], roles: string[]): void {
  for (const role of roles) {
    let version = 0;
    for (const line of lines) {
      const r = line.roles[role]!;
      assert.equal(r.version_before, version, `step ${line.step} ${role}`);
      assert.equal(r.version, r.skipped ? version : version + 1);
      version = r.version;
    }
  }
}

Deno.test("deno task train: versions advance and each policy gets its own role's rewards", async (t) => {
  const out = await Deno.makeTempDir();
  const ran = await runCli(["train", SPEC, "--out", out, "--steps", "3"]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /trained 3 steps: versions drafter@\d, finisher@\d/);
  const dir = await onlyDir(out);
  const lines = await readMetrics(dir);
  const stepLines = steps(lines);

  await t.step("one line per step, in order, with versions chained", () => {
    assert.deepEqual(stepLines.map((l) => l.step), [1, 2, 3]);
    assertVersionChain(stepLines, ["drafter", "finisher"]);
    const updates = stepLines.filter((l) => !l.roles.drafter!.skipped).length;
    assert(updates > 0, "the drafter was never updated");
  });

  await t.step("rewards are attributed to the role that acted", () => {
    // drafter scores are 6 or 7, finisher scores 1 or 2: scale 0.1 keeps the bands apart.
    for (const line of stepLines) {
      const d = line.roles.drafter!;
      const f = line.roles.finisher!;
      assert.equal(d.samples, 8);
      assert.equal(f.samples, 8);
      assert(
        d.reward_mean! >= 0.6 - 1e-9 && d.reward_mean! <= 0.7 + 1e-9,
        `${d.reward_mean}`,
      );
      assert(
        f.reward_mean! >= 0.1 - 1e-9 && f.reward_mean! <= 0.2 + 1e-9,
        `${f.reward_mean}`,
      );
      // The trainer's own mean of the samples it received for each policy.
      for (const r of [d, f]) {
        if (r.train) {
          assert(Math.abs(r.train.reward_mean! - r.reward_mean!) < 1e-6);
        }
      }
    }
  });

  await t.step(
    "each role's final adapter is a PEFT directory, and the run says where",
    async () => {
      for (const role of ["drafter", "finisher"]) {
        const version = stepLines.at(-1)!.roles[role]!.version;
        const adapter = join(dir, "trainer", "policies", role, `v${version}`);
        assert(ran.stdout.includes(`adapter ${role}@${version}: ${adapter}`));
        const config = JSON.parse(
          await Deno.readTextFile(join(adapter, "adapter_config.json")),
        );
        assert.equal(config.peft_type, "LORA");
        assert.equal(config.r, 4);
      }
    },
  );

  await t.step(
    "evaluations ran before training, every 2 steps and at the end",
    () => {
      const evals = lines.filter((l) => l.type === "eval").map((l) => l.step);
      assert.deepEqual(evals, [0, 2, 3]);
    },
  );

  await t.step("train.json records the final versions", async () => {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "train.json")),
    );
    assert.equal(manifest.status, "completed");
    assert.deepEqual(manifest.versions, {
      drafter: stepLines.at(-1)!.roles.drafter!.version,
      finisher: stepLines.at(-1)!.roles.finisher!.version,
    });
  });

  await t.step(
    "each action's prompt ids are the exact context the role saw",
    async () => {
      const events = await readRunEvents(join(dir, "steps", "step_0001"));
      const actions = events.filter((e) => e.kind === "action");
      assert.equal(actions.length, 16);
      const trainer = await startLocalTrainer({
        backend: "tiny",
        baseModel: "tiny",
        outDir: await Deno.makeTempDir(),
        seed: 0,
      });
      try {
        for (const a of actions) {
          if (a.kind !== "action") continue;
          assert.equal(a.model_call.policy_version, 0);
          const res = await fetch(`${trainer.url}/v1/render`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              messages: a.messages,
              add_generation_prompt: true,
            }),
          });
          const rendered = await res.json();
          assert.deepEqual(rendered.token_ids, a.model_call.prompt_token_ids);
          assert.equal(
            a.model_call.completion_logprobs?.length,
            a.model_call.completion_token_ids?.length,
          );
        }
      } finally {
        await trainer.stop();
      }
    },
  );
});

/** Starts `deno task train` on SPEC for 4 steps in the background; resolves once `n` steps are recorded. */
async function trainInBackground(
  n: number,
): Promise<{ child: Deno.ChildProcess; out: string; dir: string }> {
  const out = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "train", SPEC, "--out", out, "--steps", "4"],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", INIT_CWD: Deno.cwd() }, // as `deno task train` sets it
  }).spawn();
  let dir: string | undefined;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      dir ??= await onlyDir(out);
    } catch {
      continue;
    }
    if (steps(await readMetrics(dir).catch(() => [])).length >= n) break;
  }
  if (dir === undefined) {
    child.kill("SIGKILL");
    await child.stderr.cancel();
    await child.status;
    throw new Error("the training run never started");
  }
  return { child, out, dir };
}

Deno.test("deno task train: a killed run resumes where it stopped", async () => {
  const { child, out, dir } = await trainInBackground(2);
  child.kill("SIGKILL");
  await child.stderr.cancel();
  await child.status;
  // The local trainer notices that its parent is gone and exits, releasing the checkpoint directory.
  const orphans = async () =>
    (await new Deno.Command("pgrep", {
      args: ["-f", `trainer serve .*${dir}/trainer`],
      stdout: "piped",
    }).output()).stdout.length > 0;
  const gone = Date.now() + 15_000;
  while (await orphans() && Date.now() < gone) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert(!(await orphans()), "the trainer outlived the killed run");
  const before = steps(await readMetrics(dir));
  assert(before.length >= 2 && before.length < 4, `${before.length} steps`);

  const ran = await runCli(["train", SPEC, "--out", out, "--resume", dir]);
  assert.equal(ran.code, 0, ran.stderr);
  const after = steps(await readMetrics(dir));
  assert.deepEqual(after.map((l) => l.step), [1, 2, 3, 4]);
  // Finished steps are kept as they were; the chain of versions continues over the restart.
  assert.deepEqual(after.slice(0, before.length), before);
  assertVersionChain(after, ["drafter", "finisher"]);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "train.json")));
  assert.equal(manifest.sessions, 2);
  assert.equal(manifest.status, "completed");
  // The restarted trainer's policies were put back to the versions of the last finished step.
  assert.match(ran.stderr, /policy drafter: restored version [1-9]/);
});

Deno.test("deno task train --outcome-weight 1: every role gets the shared outcome reward", async () => {
  const out = await Deno.makeTempDir();
  const ran = await runCli([
    "train",
    SPEC,
    "--out",
    out,
    "--steps",
    "1",
    "--outcome-weight",
    "1",
  ]);
  assert.equal(ran.code, 0, ran.stderr);
  const [line] = steps(await readMetrics(await onlyDir(out)));
  assert.equal(line!.outcome_weight, 1);
  const success = line!.outcome.success_rate!;
  for (const role of ["drafter", "finisher"]) {
    // One action per role per episode, each rewarded 1 for a successful episode and 0 otherwise.
    assert.equal(line!.roles[role]!.reward_mean, success);
  }
});

Deno.test("deno task train: bad input is named, with how to fix it", async (t) => {
  await t.step("an unreachable trainer", async () => {
    const out = await Deno.makeTempDir();
    const ran = await runCli([
      "train",
      SPEC,
      "--out",
      out,
      "--trainer",
      "http://127.0.0.1:9",
    ]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /Cannot reach the trainer at http:\/\/127\.0\.0\.1:9/,
    );
  });
  await t.step("an outcome weight out of range", async () => {
    const ran = await runCli(["train", SPEC, "--outcome-weight", "2"]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /--outcome-weight "2": it must be a number from 0/,
    );
  });
  await t.step("a spec without a train section", async () => {
    const ran = await runCli(["train", "pipelines/debate.yaml"]);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /has no train section/);
  });
  await t.step("a training report of a damaged or missing run", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(join(dir, "train.json"), "{}");
    let ran = await runCli(["report", dir]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /is not a training manifest.*deno task train wrote/,
    );
    const out = await Deno.makeTempDir();
    assert.equal(
      (await runCli(["train", SPEC, "--out", out, "--steps", "1"])).code,
      0,
    );
    const run = await onlyDir(out);
    ran = await runCli(["report", run, "--against", dir + "/nope"]);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /Cannot read .*nope to compare .* no train\.json/);
    const metrics = join(run, "metrics.jsonl");
    const lines = (await Deno.readTextFile(metrics)).split("\n");
    await Deno.writeTextFile(metrics, ["{oops", ...lines].join("\n"));
    ran = await runCli(["report", run]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /metrics\.jsonl line 1: it is not a step or eval record/,
    );
  });
  await t.step("resuming a directory that is not a training run", async () => {
    const ran = await runCli([
      "train",
      SPEC,
      "--resume",
      await Deno.makeTempDir(),
    ]);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /Cannot resume training run .*no train\.json/);
  });
});

Deno.test("deno task train: a trainer that dies mid-run stops the run with a way to continue", async () => {
  const { child, out, dir } = await trainInBackground(1);
  const stderr = new Response(child.stderr).text();
  await new Deno.Command("pkill", {
    args: ["-KILL", "-f", `trainer serve .*${dir}/trainer`],
  }).output();
  const status = await child.status;
  const said = await stderr;
  assert.equal(status.code, 2, said);
  assert.match(said, /continue it with: deno task train .* --resume /);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "train.json")));
  assert.equal(manifest.status, "failed");
  assert.match(manifest.error, /trainer/);

  const ran = await runCli(["train", SPEC, "--out", out, "--resume", dir]);
  assert.equal(ran.code, 0, ran.stderr);
  const after = steps(await readMetrics(dir));
  assert.deepEqual(after.map((l) => l.step), [1, 2, 3, 4]);
  assertVersionChain(after, ["drafter", "finisher"]);
});

Deno.test("deno task train --resume redoes an evaluation that was cut short, even before its run existed", async () => {
  const out = await Deno.makeTempDir();
  assert.equal(
    (await runCli(["train", SPEC, "--out", out, "--steps", "2"])).code,
    0,
  );
  const dir = await onlyDir(out);
  const lines = await readMetrics(dir);
  assert.deepEqual(lines.at(-1)?.type, "eval");
  // As if killed after step 2's line, while the eval run's directory was being created.
  await Deno.writeTextFile(
    join(dir, "metrics.jsonl"),
    lines.slice(0, -1).map((l) => JSON.stringify(l) + "\n").join(""),
  );
  await Deno.remove(join(dir, "evals", "step_0002_eval"), { recursive: true });
  await Deno.mkdir(join(dir, "evals", "step_0002_eval"));

  const ran = await runCli(["train", SPEC, "--out", out, "--resume", dir]);
  assert.equal(ran.code, 0, ran.stderr);
  const again = await readMetrics(dir);
  assert.deepEqual(
    again.map((l) => `${l.type}:${l.step}`),
    ["eval:0", "step:1", "step:2", "eval:2"],
  );
});

Deno.test("deno task train --trainer URL: a running trainer serves the run under policies named after it", async () => {
  const trainer = await startLocalTrainer({
    backend: "tiny",
    baseModel: "tiny",
    outDir: await Deno.makeTempDir(),
    seed: 0,
  });
  try {
    const out = await Deno.makeTempDir();
    const ran = await runCli([
      "train",
      SPEC,
      "--out",
      out,
      "--steps",
      "2",
      "--trainer",
      trainer.url,
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const dir = await onlyDir(out);
    const runId = dir.split("/").at(-1)!;
    const last = steps(await readMetrics(dir)).at(-1)!;
    const listed = await (await fetch(`${trainer.url}/v1/policies`)).json();
    const versions = Object.fromEntries(
      (listed.policies as { policy_id: string; version: number }[]).map((
        p,
      ) => [p.policy_id, p.version]),
    );
    assert.deepEqual(versions, {
      [`${runId}.drafter`]: last.roles.drafter!.version,
      [`${runId}.finisher`]: last.roles.finisher!.version,
    });
  } finally {
    await trainer.stop();
  }
});

Deno.test("deno task train exits 1 when the grader could not grade episodes: trained with those outcome rewards masked, and said", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_train_ungraded_" });
  const spec = await writeOneStepAttributionSpec(
    dir,
    `  grader: tabular_metric
  params: { submission: submission.csv, metric_field: metric, answers: answers }
  fair: { valid_submission: 0 }
`,
    {
      edit: (text) =>
        text.replace(
          /^( {4}after: \[drafter\]\n)/m,
          "$1    produces: [{ path: submission.csv, required: false }]\n",
        ),
      row: (id) => ({ metric: "accuracy", answers: `not_built/${id}.csv` }),
    },
  );
  const out = join(dir, "runs");
  const ran = await runCli([
    "train",
    spec,
    "--out",
    out,
    "--outcome-weight",
    "0.5",
  ]);
  assert.equal(ran.code, 1, ran.stderr);
  assert.match(ran.stdout, /^trained 1 steps/m, ran.stderr);
  assert.match(
    ran.stderr,
    /^mappa: episodes could not be graded for an infrastructure reason \(not the agents' failure; their outcome rewards were masked\): 8 in step 1 \(steps\/\S+\/events\.jsonl\); .*--resume /m,
  );
  const [line] = steps(await readMetrics(await onlyDir(out)));
  assert.equal(line!.outcome.ungraded, 8);
  assert.equal(line!.outcome.graded, 0);
});

/** `episode/role/turn -> reply` of every action of a training run's first step. */
async function firstStepReplies(dir: string): Promise<Map<string, string>> {
  const events = await readRunEvents(join(dir, "steps", "step_0001"));
  const replies = new Map<string, string>();
  for (const e of events) {
    if (e.kind !== "action") continue;
    replies.set(
      `${e.episode_id}/${e.role}/${e.turn}`,
      JSON.stringify(e.model_call.completion_token_ids ?? e.reply.content),
    );
  }
  return replies;
}

Deno.test("deno task train: train.seed makes the rollouts reproducible (same seed, same replies)", async () => {
  const spec = await Deno.readTextFile(SPEC);
  const root = await Deno.makeTempDir();
  // The spec reads its data beside it (a spec reads only inside its folder).
  await Deno.mkdir(join(root, "data", "relay"), { recursive: true });
  for (const split of ["train", "eval"]) {
    await Deno.copyFile(
      `tests/specs/data/relay/${split}.jsonl`,
      join(root, `data/relay/${split}.jsonl`),
    );
  }
  const withSeed = async (seed: number) => {
    const file = join(root, `seed_${seed}.yaml`);
    await Deno.writeTextFile(
      file,
      spec
        .replace(/\n {2}seed: \d+/, `\n  seed: ${seed}`)
        .replace(/eval: \{ every: 2,[^\n]*/, "eval: { every: 100 }"),
    );
    return file;
  };
  const run = async (seed: number, name: string) => {
    const out = join(root, name);
    const ran = await runCli([
      "train",
      await withSeed(seed),
      "--out",
      out,
      "--steps",
      "1",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    return firstStepReplies(await onlyDir(out));
  };
  const a = await run(1, "a");
  const b = await run(1, "b");
  const c = await run(2, "c");
  assert.equal(a.size, 16); // 4 tasks x 2 samples x 2 roles
  assert.deepEqual([...b].sort(), [...a].sort());
  const same = [...c.values()].filter((r) => [...a.values()].includes(r));
  assert(same.length < a.size / 2, `${same.length} of ${a.size} replies equal`);
});
