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
