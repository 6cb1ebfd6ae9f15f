import assert from "node:assert/strict";
import { join } from "node:path";
import { RunEventSchema } from "../runtime/mod.ts";
import { runCli as cli } from "./run_cli.ts";

/** A one-role tabular spec whose scripted analyst writes no submission; `answers` is each task's answers file. */
async function tabularSpec(answers: (id: string) => string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_grading_" });
  await Deno.writeTextFile(
    join(dir, "spec.yaml"),
    `version: 1
name: gradeless
models: { m: { provider: scripted, model: demo, script: demo.yaml } }
roles:
  - id: analyst
    description: Writes the submission
    model: m
    produces: [{ path: submission.csv, required: false }]
    prompts: { user: "Predict {{ task.q }}" }
dataset:
  splits: { eval: tasks.jsonl }
  fields: { id: id, inputs: { q: q } }
outcome:
  grader: tabular_metric
  params: { submission: submission.csv, metric_field: metric, answers: answers }
  fair: { accuracy: 0.5 }
`,
  );
  await Deno.writeTextFile(
    join(dir, "demo.yaml"),
    'roles:\n  analyst: ["I wrote nothing."]\n',
  );
  await Deno.writeTextFile(
    join(dir, "tasks.jsonl"),
    ["t1", "t2"].map((id) =>
      JSON.stringify({ id, q: id, metric: "accuracy", answers: answers(id) })
    ).join("\n") + "\n",
  );
  return dir;
}

async function events(out: string) {
  const [run] = [...Deno.readDirSync(out)].map((e) => e.name);
  const text = await Deno.readTextFile(join(out, run!, "events.jsonl"));
  return text.trim().split("\n").map((l) =>
    RunEventSchema.parse(JSON.parse(l))
  );
}

Deno.test("run exits 1 and names every episode the grader could not grade (missing answers file), with the fix; recorded as ungraded", async () => {
  const dir = await tabularSpec((id) => `no_such_dir/${id}.csv`);
  const out = join(dir, "runs");
  const r = await cli(["run", join(dir, "spec.yaml"), "--out", out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /episodes: 2 completed, 0 failed of 2/);
  assert.match(
    r.stdout,
    /^ {2}ungraded \(grader failed\): 2 episodes, not counted as the agents' failures/m,
  );
  assert.doesNotMatch(r.stdout, /success: 0\/2/, "not the agents' failures");
  assert.match(
    r.stderr,
    /^mappa: 2 episodes could not be graded for an infrastructure reason/m,
  );
  for (const id of ["t1", "t2"]) {
    assert.match(
      r.stderr,
      new RegExp(
        `^ {2}eval:${id}: tabular_metric grader_error: the grader failed: Cannot read answers file "[^"]*${id}\\.csv": no such file$`,
        "m",
      ),
    );
  }
  assert.match(r.stderr, /^mappa: fix what the reason names .*deno task run /m);
  // training/samples_test.ts shows buildSamples() masks every action of such an episode (grader_failed).
  const finished = (await events(out)).filter((e) =>
    e.kind === "episode_finished"
  );
  assert.deepEqual(
    finished.map((e) => e.kind === "episode_finished" && e.outcome?.ungraded),
    ["grader_error", "grader_error"],
  );
});

Deno.test("run exits 0 when the agents submit nothing but the grader works: that is their failure, graded", async () => {
  const dir = await tabularSpec((id) => `answers_${id}.csv`);
  for (const id of ["t1", "t2"]) {
    await Deno.writeTextFile(
      join(dir, `answers_${id}.csv`),
      "id,y\n1,a\n2,b\n",
    );
  }
  const out = join(dir, "runs");
  // Answer paths in task rows resolve against the working directory.
  const r = await cli(["run", join(dir, "spec.yaml"), "--out", out], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /success: 0\/2 graded episodes/);
  assert.doesNotMatch(r.stdout + r.stderr, /ungraded|could not be graded/);
  const finished = (await events(out)).filter((e) =>
    e.kind === "episode_finished"
  );
  assert.deepEqual(
    finished.map((e) =>
      e.kind === "episode_finished" && [e.outcome?.valid, e.outcome?.ungraded]
    ),
    [[false, undefined], [false, undefined]],
  );
});

Deno.test("--resume grades the ungraded episodes again from their records, without running the agents, and exits 0", async () => {
  const dir = await tabularSpec((id) => `late/${id}.csv`);
  const out = join(dir, "runs");
  const first = await cli(["run", join(dir, "spec.yaml"), "--out", out], dir);
  assert.equal(first.code, 1, first.stderr);
  const [run] = [...Deno.readDirSync(out)].map((e) => join(out, e.name));
  assert.match(
    first.stderr,
    new RegExp(
      `deno task run \\S+ --resume ${run!.replaceAll("/", "\\/")}$`,
      "m",
    ),
  );
  // The answers files appear (the task set was built late): the grader can grade now.
  await Deno.mkdir(join(dir, "late"));
  for (const id of ["t1", "t2"]) {
    await Deno.writeTextFile(join(dir, "late", `${id}.csv`), "id,y\n1,a\n");
  }
  const before = await events(out);
  const again = await cli([
    "run",
    join(dir, "spec.yaml"),
    "--out",
    out,
    "--resume",
    run!,
  ], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /success: 0\/2 graded episodes/);
  assert.doesNotMatch(
    again.stdout + again.stderr,
    /ungraded|could not be graded/,
  );
  const after = (await events(out)).slice(before.length);
  // No episode ran again: no new episode_started, no new action.
  assert.deepEqual(
    after.filter((e) => e.kind === "episode_started" || e.kind === "action"),
    [],
  );
  const regraded = after.filter((e) => e.kind === "episode_finished");
  assert.deepEqual(
    regraded.map((e) =>
      e.kind === "episode_finished" &&
      [
        e.episode_id,
        e.attempt,
        e.regraded,
        e.outcome?.ungraded,
        e.outcome?.valid,
      ]
    ),
    [
      ["eval:t1", 1, true, undefined, false],
      ["eval:t2", 1, true, undefined, false],
    ],
  );
  // A third resume finds nothing left to do.
  const third = await cli([
    "run",
    join(dir, "spec.yaml"),
    "--out",
    out,
    "--resume",
    run!,
  ], dir);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(
    (await events(out)).filter((e) => e.kind === "episode_finished").length,
    4,
  );
});
