import assert from "node:assert/strict";
import { TRAINER_INFO } from "../tests/fixtures/training_fixtures.ts";
import { join } from "node:path";
import {
  compileFile,
  type ExecutionGraph,
  type GraphTrain,
} from "../dsl/mod.ts";
import { type MetricsLine, readMetrics } from "./metrics.ts";
import { openTrainRun, type TrainManifest } from "./train_run.ts";

function relay(): { graph: ExecutionGraph; train: GraphTrain } {
  const result = compileFile("pipelines/relay.yaml");
  assert.ok(result.ok, "pipelines/relay.yaml compiles");
  assert.ok(result.graph.train, "relay.yaml has a train section");
  return { graph: result.graph, train: result.graph.train };
}

const INFO = TRAINER_INFO;

const OUTCOME = { episodes: 2, graded: 2, success_rate: 0.5, metrics: {} };

function stepLine(step: number, versions: Record<string, number>): MetricsLine {
  return {
    type: "step",
    step,
    ts: `2025-01-01T00:00:0${step}.000Z`,
    seconds: 1,
    run: `steps/${step}`,
    roles: Object.fromEntries(
      Object.entries(versions).map(([role, v]) => [role, {
        version_before: v - 1,
        version: v,
        samples: 2,
        masked: {},
        reward_mean: 0.5,
        score_mean: 5,
        scored: 2,
        completion_tokens: 4,
      }]),
    ),
    outcome: OUTCOME,
    categories: {},
    outcome_weight: 0,
  };
}

function evalLine(step: number): MetricsLine {
  return {
    type: "eval",
    step,
    ts: "2025-01-01T00:00:00.000Z",
    seconds: 1,
    split: "eval",
    run: `evals/${step}`,
    versions: { drafter: step, finisher: step },
    outcome: OUTCOME,
    roles: {},
    categories: {},
  };
}

async function manifest(dir: string): Promise<TrainManifest> {
  return JSON.parse(await Deno.readTextFile(join(dir, "train.json")));
}

async function withOutDir(body: (outDir: string) => Promise<void>) {
  const outDir = await Deno.makeTempDir({ prefix: "mappa_train_run_" });
  try {
    await body(outDir);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}

Deno.test("openTrainRun() creates a run directory with train.json", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const run = await openTrainRun(graph, train, {
      outDir,
      trainer: "http://user:secret@127.0.0.1:8000/v1?token=t",
    });
    assert.match(run.id, /^relay__train__1__\d+$/);
    assert.equal(run.dir, join(outDir, run.id));
    assert.equal(run.lastStep, 0);
    assert.equal(run.session, 1);
    assert.deepEqual(run.versions, { drafter: 0, finisher: 0 });
    assert.deepEqual([...run.evalsDone], []);
    const m = await manifest(run.dir);
    assert.equal(m.kind, "training");
    assert.equal(m.run_id, run.id);
    assert.equal(m.status, "running");
    assert.equal(m.spec_file, graph.spec_file);
    assert.equal(m.spec_hash, graph.spec_hash);
    assert.deepEqual(m.train, train);
    assert.equal(m.trainer, "http://127.0.0.1:8000/v1");
    assert.equal(m.sessions, 1);
    assert.deepEqual(m.versions, { drafter: 0, finisher: 0 });
    assert.equal(m.trainer_info, undefined);
    assert.equal(await Deno.readTextFile(join(run.dir, "metrics.jsonl")), "");

    // A second run started in the same second gets its own directory.
    const other = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    assert.notEqual(other.dir, run.dir);
    assert.equal((await manifest(other.dir)).trainer, "local");
  });
});

Deno.test("openTrainRun() resumes by path and by id, from the last step line", async (t) => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const first = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    const seen: number[] = [];
    await first.append(evalLine(0), (line) => seen.push(line.step));
    await first.append(
      stepLine(1, { drafter: 1, finisher: 1 }),
      (line) => seen.push(line.step),
    );
    await first.append(stepLine(2, { drafter: 2, finisher: 1 }));
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual((await manifest(first.dir)).versions, {
      drafter: 2,
      finisher: 1,
    });
    assert.equal(
      (await manifest(first.dir)).updated_at,
      "2025-01-01T00:00:02.000Z",
    );

    await t.step("by path", async () => {
      const run = await openTrainRun(graph, train, {
        outDir: "/nonexistent",
        trainer: "local",
        resume: first.dir,
      });
      assert.equal(run.id, first.id);
      assert.equal(run.dir, first.dir);
      assert.equal(run.lastStep, 2);
      assert.deepEqual(run.versions, { drafter: 2, finisher: 1 });
      assert.deepEqual([...run.evalsDone], ["0:eval"]);
      assert.equal(run.session, 2);
      const m = await manifest(run.dir);
      assert.equal(m.sessions, 2);
      assert.equal(m.status, "running");
    });

    await t.step("by id under outDir", async () => {
      const run = await openTrainRun(graph, train, {
        outDir,
        trainer: "local",
        resume: first.id,
      });
      assert.equal(run.dir, first.dir);
      assert.equal(run.lastStep, 2);
      assert.equal(run.session, 3);
      // The metrics file is unchanged by opening it.
      assert.equal((await readMetrics(run.dir)).length, 3);
    });

    await t.step("a run that does not exist", async () => {
      await assert.rejects(
        openTrainRun(graph, train, {
          outDir,
          trainer: "local",
          resume: "nope",
        }),
        (e: unknown) =>
          e instanceof RangeError && /"nope".*no train\.json/.test(e.message),
      );
    });
  });
});

Deno.test("openTrainRun() refuses to resume with another spec", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const first = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    const changed = { ...graph, spec_hash: "f".repeat(64) };
    await assert.rejects(
      openTrainRun(changed, train, {
        outDir,
        trainer: "local",
        resume: first.dir,
      }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.includes(graph.spec_hash.slice(0, 12)) &&
        e.message.includes("ffffffffffff"),
    );
    // The refused resume counted no session.
    assert.equal((await manifest(first.dir)).sessions, 1);
  });
});

Deno.test("openTrainRun() drops a torn last metrics line and rewrites the file", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const first = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    await first.append(stepLine(1, { drafter: 1, finisher: 1 }));
    const path = join(first.dir, "metrics.jsonl");
    const good = await Deno.readTextFile(path);
    const torn = JSON.stringify(stepLine(2, { drafter: 2, finisher: 2 }))
      .slice(0, 40);
    await Deno.writeTextFile(path, good + torn);

    const run = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
      resume: first.dir,
    });
    assert.equal(run.lastStep, 1);
    assert.deepEqual(run.versions, { drafter: 1, finisher: 1 });
    assert.equal(await Deno.readTextFile(path), good);
    // Appends start on a clean line.
    await run.append(stepLine(2, { drafter: 2, finisher: 2 }));
    assert.deepEqual((await readMetrics(run.dir)).map((l) => l.step), [1, 2]);
  });
});

Deno.test("TrainRun.checkTrainer() refuses another tokenizer on a resumed run", async (t) => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const first = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    await first.checkTrainer(INFO);
    assert.deepEqual((await manifest(first.dir)).trainer_info, INFO);
    const resume = () =>
      openTrainRun(graph, train, {
        outDir,
        trainer: "local",
        resume: first.dir,
      });

    await t.step("the same tokenizer (another backend is fine)", async () => {
      const run = await resume();
      await run.checkTrainer({ ...INFO, backend: "hf" });
      // The first trainer's info stays the reference.
      assert.equal((await manifest(run.dir)).trainer_info?.backend, "tiny");
    });

    await t.step("another vocabulary", async () => {
      const run = await resume();
      await assert.rejects(
        run.checkTrainer({
          ...INFO,
          tokenizer: { ...INFO.tokenizer, vocab_size: 65 },
        }),
        (e: unknown) =>
          e instanceof RangeError && /vocab 64 -> 65/.test(e.message),
      );
    });

    await t.step("another chat template", async () => {
      const run = await resume();
      await assert.rejects(
        run.checkTrainer({
          ...INFO,
          tokenizer: {
            ...INFO.tokenizer,
            chat_template_sha256: "b".repeat(64),
          },
        }),
        (e: unknown) =>
          e instanceof RangeError &&
          /chat template aaaaaaaaaaaa -> bbbbbbbbbbbb/.test(e.message),
      );
    });
    assert.deepEqual((await manifest(first.dir)).trainer_info, INFO);
  });
});

Deno.test("TrainRun.append() validates the line before writing it", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const run = await openTrainRun(graph, train, { outDir, trainer: "local" });
    const bad = { ...stepLine(1, { drafter: 1 }), step: 0 } as MetricsLine;
    await assert.rejects(run.append(bad));
    assert.equal(await Deno.readTextFile(join(run.dir, "metrics.jsonl")), "");
  });
});

Deno.test("TrainRun.finish() writes the status and final versions", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const run = await openTrainRun(graph, train, { outDir, trainer: "local" });
    await run.append(evalLine(0));
    await run.append(stepLine(1, { drafter: 1, finisher: 1 }));
    await run.append(stepLine(2, { drafter: 2, finisher: 2 }));
    const done = await run.finish("interrupted", { drafter: 2, finisher: 2 });
    assert.deepEqual(done, {
      dir: run.dir,
      steps: 2,
      status: "interrupted",
      versions: { drafter: 2, finisher: 2 },
    });
    const m = await manifest(run.dir);
    assert.equal(m.status, "interrupted");
    assert.deepEqual(m.versions, { drafter: 2, finisher: 2 });
    assert.ok(m.updated_at && !Number.isNaN(Date.parse(m.updated_at)));
    await run.finish("completed", { drafter: 2, finisher: 2 });
    assert.equal((await manifest(run.dir)).status, "completed");
    // A resumed run is running again.
    await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
      resume: run.dir,
    });
    assert.equal((await manifest(run.dir)).status, "running");
  });
});

Deno.test("openTrainRun() keeps a resumed run's settings unless the command line overrides them again", async () => {
  const { graph, train } = relay();
  const outDir = await Deno.makeTempDir();
  const first = await openTrainRun(graph, train, {
    outDir,
    trainer: "local",
    overrides: { steps: 3, outcomeWeight: 1 },
  });
  assert.equal(first.train.steps, 3);
  assert.equal(first.train.reward.outcome_weight, 1);
  const kept = await openTrainRun(graph, train, {
    outDir,
    trainer: "local",
    resume: first.dir,
  });
  assert.equal(kept.train.steps, 3);
  assert.equal(kept.train.reward.outcome_weight, 1);
  const changed = await openTrainRun(graph, train, {
    outDir,
    trainer: "local",
    resume: first.dir,
    overrides: { steps: 5 },
  });
  assert.equal(changed.train.steps, 5);
  assert.equal(changed.train.reward.outcome_weight, 1);
  const manifest: TrainManifest = JSON.parse(
    await Deno.readTextFile(join(first.dir, "train.json")),
  );
  assert.equal(manifest.train.steps, 5);
  await assert.rejects(
    openTrainRun(graph, train, {
      outDir,
      trainer: "local",
      resume: first.dir,
      check: () => {
        throw new RangeError("Cannot train: checked");
      },
    }),
    /checked/,
  );
});

Deno.test("openTrainRun() takes --seed and records coach noise (seeded by train.seed unless given), kept on resume", async () => {
  await withOutDir(async (outDir) => {
    const { graph, train } = relay();
    const run = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
      overrides: { seed: 7, coachNoise: { flip: 0.2 } },
    });
    assert.match(run.id, /^relay__train__7__\d+$/);
    assert.equal(run.train.seed, 7);
    assert.deepEqual(run.coachNoise, { flip: 0.2, seed: 7 });
    const manifest: TrainManifest = JSON.parse(
      await Deno.readTextFile(join(run.dir, "train.json")),
    );
    assert.deepEqual(manifest.coach_noise, { flip: 0.2, seed: 7 });
    const resumed = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
      resume: run.dir,
    });
    assert.equal(resumed.train.seed, 7);
    assert.deepEqual(resumed.coachNoise, { flip: 0.2, seed: 7 });
    const plain = await openTrainRun(graph, train, {
      outDir,
      trainer: "local",
    });
    assert.equal(plain.coachNoise, undefined);
  });
});
