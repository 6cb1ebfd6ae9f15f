import assert from "node:assert/strict";
import { join } from "node:path";
import { RunStore, RunStoreError } from "./run_store.ts";

Deno.test("RunStore appends validated events in order and rejects invalid ones", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r1", { run_id: "r1" });
  await Promise.all([
    store.append({ kind: "run_started", role: null, resumed: false }),
    store.append({
      kind: "run_finished",
      role: null,
      status: "completed",
      episodes: 0,
    }),
  ]);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    store.append({ kind: "run_finished", role: null, status: "nope" } as any),
    TypeError,
  );
  await store.close();
  const lines = (await Deno.readTextFile(join(root, "r1", "events.jsonl")))
    .trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.step, l.kind, l.run_id]), [[
    0,
    "run_started",
    "r1",
  ], [1, "run_finished", "r1"]]);
  await assert.rejects(RunStore.create(root, "r1", {}), RunStoreError);
});

Deno.test("RunStore writes concurrent appends together, whole lines in step order, and tells listeners in order", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r2", { run_id: "r2" });
  const heard: number[] = [];
  store.listen((e) => heard.push(e.step));
  const written = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      store.append({
        kind: "run_finished",
        role: null,
        status: "completed",
        episodes: i,
      })),
  );
  await Promise.all([store.sync(), store.sync(), store.sync()]);
  const text = await Deno.readTextFile(join(root, "r2", "events.jsonl"));
  const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.step, l.episodes]),
    written.map((_, i) => [i, i]),
  );
  assert.deepEqual(heard, written.map((e) => e.step));
  await store.close();
});

Deno.test("RunStore.open() drops a torn last line and continues the step count", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r2", { run_id: "r2" });
  await store.append({ kind: "run_started", role: null, resumed: false });
  await store.close();
  const path = join(root, "r2", "events.jsonl");
  await Deno.writeTextFile(
    path,
    '{"run_id":"r2","step":1,"ts":"x","role":null,"kind":"run_fin',
    { append: true },
  );
  const { store: again, state } = await RunStore.open(join(root, "r2"));
  assert.equal(state.events, 1);
  assert.ok(state.repairedBytes > 0);
  const e = await again.append({
    kind: "run_started",
    role: null,
    resumed: true,
  });
  assert.equal(e.step, 1);
  await again.close();
  assert.equal((await Deno.readTextFile(path)).trim().split("\n").length, 2);
});

Deno.test("RunStore stores blobs by content once", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r3", {});
  const a = await store.putBlob("hello");
  const b = await store.putBlob(new TextEncoder().encode("hello"));
  assert.equal(a, b);
  assert.equal(
    a,
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  );
  assert.equal(await Deno.readTextFile(store.blobPath(a)), "hello");
  await store.close();
});

Deno.test("RunStore takes a lock: a second writer is refused, a dead holder's lock is taken over", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r4", { run_id: "r4" });
  // Another live process (pid 1) holds the lock: opening is refused with the pid and the fix.
  await Deno.writeTextFile(join(root, "r4", "run.lock"), "1");
  await assert.rejects(
    RunStore.open(join(root, "r4")),
    RunStoreError,
    "process 1 is writing it",
  );
  // A holder that no longer exists leaves a stale lock, which open takes over.
  await Deno.writeTextFile(join(root, "r4", "run.lock"), "999999999");
  const { store: again } = await RunStore.open(join(root, "r4"));
  assert.equal(
    await Deno.readTextFile(join(root, "r4", "run.lock")),
    String(Deno.pid),
  );
  await again.close();
  await store.close();
  await assert.rejects(
    Deno.stat(join(root, "r4", "run.lock")),
    Deno.errors.NotFound,
  );
});

Deno.test("RunStore.open() names the line of a damaged event", async () => {
  const root = await Deno.makeTempDir();
  const store = await RunStore.create(root, "r5", { run_id: "r5" });
  await store.append({ kind: "run_started", role: null, resumed: false });
  await store.close();
  await Deno.writeTextFile(join(root, "r5", "events.jsonl"), "{not json}\n", {
    append: true,
  });
  await assert.rejects(
    RunStore.open(join(root, "r5")),
    RunStoreError,
    "events.jsonl line 2 is not JSON",
  );
  await Deno.writeTextFile(
    join(root, "r5", "events.jsonl"),
    '{"kind":"nope"}\n',
  );
  await assert.rejects(
    RunStore.open(join(root, "r5")),
    RunStoreError,
    "line 1 is not a valid event",
  );
});
