import assert from "node:assert/strict";
import { join } from "node:path";
import { RunStoreError } from "./run_store_error.ts";
import { RunLog } from "./run_log.ts";
import {
  fixtureExecution,
  fixtureGraph,
  FixtureRun,
} from "../tests/fixtures/run_log_fixture.ts";

async function writeRun(run: FixtureRun, tail = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_runlog_" });
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({ run_id: "fixture__0__1", graph: run.log.graph }),
  );
  await Deno.writeTextFile(
    join(dir, "events.jsonl"),
    run.events.map((e) => JSON.stringify(e) + "\n").join("") + tail,
  );
  return dir;
}

function twoAttempts(): FixtureRun {
  const run = new FixtureRun();
  run.started(1);
  run.action("data_engineer", { stop_reason: "model_error" });
  run.started(2);
  run.action("data_engineer", { attempt: 2 });
  run.finished("data_engineer", { attempt: 2 });
  run.action("modeler", { attempt: 2 });
  return run;
}

Deno.test("RunLog.load() keeps only each episode's last attempt and skips a torn last line", async () => {
  const dir = await writeRun(twoAttempts(), '{"run_id": "fixture__0__1", "st');
  try {
    const log = await RunLog.load(dir);
    assert.equal(log.runId, "fixture__0__1");
    assert.deepEqual(log.graph.roles.map((r) => r.id), [
      "data_engineer",
      "modeler",
      "analyst",
    ]);
    assert.deepEqual(log.actions(), [
      {
        episode_id: "eval:t1",
        attempt: 2,
        action_index: 0,
        role: "data_engineer",
      },
      { episode_id: "eval:t1", attempt: 2, action_index: 1, role: "modeler" },
    ]);
    assert.equal(log.episodeStarted("eval:t1")?.attempt, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RunLog.load() reports a missing manifest, a manifest without graph and an invalid line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_runlog_" });
  try {
    await assert.rejects(
      RunLog.load(dir),
      (e) =>
        e instanceof RunStoreError &&
        /^Cannot load run .*: its manifest\.json is missing or unreadable/
          .test(e.message),
    );
    await Deno.writeTextFile(join(dir, "manifest.json"), "{}");
    await assert.rejects(RunLog.load(dir), /has no compiled graph/);
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({ graph: fixtureGraph() }),
    );
    assert.deepEqual((await RunLog.load(dir)).actions(), []);
    await Deno.writeTextFile(join(dir, "events.jsonl"), '{"kind": "x"}\n');
    await assert.rejects(
      RunLog.load(dir),
      /events\.jsonl line 1 is not a valid event/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RunLog.add() builds the same log incrementally and drops a stale attempt's late events", () => {
  const run = twoAttempts();
  const log = RunLog.fromGraph(run.log.graph, "fixture__0__1");
  for (const e of run.events) log.add(e);
  assert.deepEqual(log.actions(), run.log.actions());
  log.add({ ...run.events[1]!, step: 99 }); // an attempt-1 action arriving late
  assert.equal(log.actions().length, 2);
  assert.throws(
    () => log.add({ ...run.events[0]!, run_id: "other" }),
    /Cannot add an event to the log of run "fixture__0__1": it belongs to run "other"/,
  );
});

Deno.test("RunLog.action() and role() name what they cannot find", () => {
  const run = twoAttempts();
  assert.throws(
    () =>
      run.log.action({
        episode_id: "eval:t1",
        attempt: 1,
        action_index: 0,
        role: "data_engineer",
      }),
    /Cannot find action 0 of episode "eval:t1" attempt 1/,
  );
  assert.throws(() => run.log.role("nobody"), /Cannot find role "nobody"/);
});

Deno.test("RunLog.isComplete() waits for the role's last action of the round", () => {
  const run = new FixtureRun();
  run.started();
  const first = run.action("data_engineer", { stop_reason: "continue" });
  assert.equal(run.log.isComplete(first), false);
  const last = run.action("data_engineer", { stop_reason: "max_turns" });
  assert.equal(run.log.isComplete(first), true);
  assert.equal(run.log.lastActionOfRound(first)?.action_index, 1);
  assert.equal(run.log.isComplete(last), true);
});

Deno.test("RunLog.filesBefore() replays the task's files and earlier changes", () => {
  const run = new FixtureRun();
  run.started();
  const first = run.action("data_engineer", {
    stop_reason: "continue",
    executions: [
      fixtureExecution({ created: ["X_train.pkl", "tmp.txt"] }),
      fixtureExecution({
        files: [
          { path: "tmp.txt", change: "deleted", kind: "file" },
          { path: "link", change: "created", kind: "symlink", rejected: "x" },
        ],
      }),
    ],
  });
  const second = run.action("data_engineer");
  assert.deepEqual(run.log.filesBefore(first), ["train.csv"]);
  assert.deepEqual(run.log.filesBefore(second), ["X_train.pkl", "train.csv"]);
  const seeded = new FixtureRun();
  seeded.started(1, "eval:t1", { files: { "a.csv": "00", "b.csv": "11" } });
  assert.deepEqual(
    seeded.log.filesBefore(seeded.action("data_engineer")),
    ["a.csv", "b.csv"],
  );
});
