import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RunStore } from "./run_store.ts";
import { createWorkspace } from "./workspace_tracker.ts";

Deno.test("createWorkspace() stores a large file's exact bytes, and exclusive() waits for track()", async () => {
  const root = await Deno.makeTempDir({ prefix: "mappa-tracker-test-" });
  try {
    const store = await RunStore.create(root, "run", {});
    const dir = `${root}/ws`;
    const ws = await createWorkspace(dir, [], store);
    const bytes = new Uint8Array(3 << 20).map((_, i) => i % 251);
    const order: string[] = [];
    let release = () => {};
    const held = new Promise<void>((r) => release = r);
    const tracked = ws.track(async () => {
      order.push("track");
      await Deno.writeFile(`${dir}/big.bin`, bytes);
      await held;
      order.push("track done");
    });
    const exclusive = ws.exclusive(() => {
      order.push("exclusive");
      return Promise.resolve();
    });
    await new Promise((r) => setTimeout(r, 50));
    release();
    const { changes } = await tracked;
    await exclusive;
    assert.deepEqual(order, ["track", "track done", "exclusive"]);
    const sha = createHash("sha256").update(bytes).digest("hex");
    assert.deepEqual(changes.map((c) => [c.path, c.sha256]), [[
      "big.bin",
      sha,
    ]]);
    assert.deepEqual(await ws.final(), { "big.bin": sha });
    assert.deepEqual(await Deno.readFile(store.blobPath(sha)), bytes);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createWorkspace() records a sparse file as such: never hashed through its holes, never expanded into blobs", async () => {
  const root = await Deno.makeTempDir({ prefix: "mappa-tracker-sparse-" });
  try {
    const store = await RunStore.create(root, "run", {});
    const dir = `${root}/ws`;
    const ws = await createWorkspace(dir, [], store);
    const apparent = 2 * 1024 ** 3; // 2 GiB of holes around 16 KiB of data
    const { changes } = await ws.track(async () => {
      const f = await Deno.open(`${dir}/sparse.bin`, {
        write: true,
        create: true,
      });
      await f.write(new Uint8Array(16 << 10).fill(7));
      await f.truncate(apparent);
      f.close();
      await Deno.writeTextFile(`${dir}/small.txt`, "ok");
    });
    const sparse = changes.find((c) => c.path === "sparse.bin");
    assert.equal(sparse?.sha256, undefined);
    assert.match(
      sparse?.not_stored ?? "",
      new RegExp(`^sparse: ${apparent} bytes apparent, \\d+ allocated$`),
    );
    const final = await ws.final();
    assert.deepEqual(Object.keys(final), ["small.txt"]);
    // Nothing near the apparent size reached the run directory.
    let stored = 0;
    for await (const shard of Deno.readDir(`${store.dir}/blobs`)) {
      if (!shard.isDirectory) continue;
      for await (const b of Deno.readDir(`${store.dir}/blobs/${shard.name}`)) {
        stored +=
          (await Deno.stat(`${store.dir}/blobs/${shard.name}/${b.name}`))
            .size;
      }
    }
    assert.ok(stored < 1 << 20, `blobs hold ${stored} bytes`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
