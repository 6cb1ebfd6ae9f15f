import assert from "node:assert/strict";
import { join } from "node:path";
import { readRunManifest, writeRunManifest } from "./manifest.ts";
import { RunStore, RunStoreError } from "./run_store.ts";

const OLD_RUN = new URL("../tests/fixtures/old_run", import.meta.url).pathname;

Deno.test("readRunManifest() reads a manifest written before the schema, keys and all", async () => {
  const manifest = await readRunManifest(OLD_RUN);
  assert.equal(manifest.run_id, "math__0__1767000000");
  assert.equal(manifest.args?.split, "eval");
  assert.equal(manifest.environment, undefined);
  assert.deepEqual(
    manifest,
    JSON.parse(await Deno.readTextFile(join(OLD_RUN, "manifest.json"))),
  );
});

Deno.test("readRunManifest() names the file and the fix, in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await readRunManifest(dir, "load").catch((e) => e);
    assert.ok(missing instanceof RunStoreError);
    assert.ok(missing.cause instanceof Deno.errors.NotFound);
    assert.match(
      missing.message,
      /^Cannot load run .+: its manifest\.json is missing or unreadable \(.+\); pass a run directory .* runs\/<run_id>$/,
    );
    await Deno.writeTextFile(join(dir, "manifest.json"), "{ torn");
    await assert.rejects(
      readRunManifest(dir),
      /^RunStoreError: Cannot read run .+: its manifest\.json is not JSON \(.+\); restore .+manifest\.json or pass/,
    );
    for (
      const [bad, where] of [["[]", "the file"], [
        '{"args": {"split": 3}}',
        "args.split",
      ], ['{"graph": "g"}', "graph"]]
    ) {
      await Deno.writeTextFile(join(dir, "manifest.json"), bad!);
      const e = await readRunManifest(dir, "resume").catch((e) => e);
      assert.ok(e instanceof RunStoreError);
      assert.ok(
        e.message.startsWith(
          `Cannot resume run ${dir}: its manifest.json is not a run manifest (${where}: `,
        ),
        e.message,
      );
      assert.doesNotMatch(e.message, /\n/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeRunManifest() refuses what the schema refuses and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      // @ts-expect-error: a status no run has
      writeRunManifest(dir, { status: "paused" }),
      /^TypeError: Cannot write the manifest of run .+: status: /,
    );
    await writeRunManifest(dir, { run_id: "r", args: { split: "eval" } });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "manifest.json",
    ]);
    assert.equal(
      await Deno.readTextFile(join(dir, "manifest.json")),
      JSON.stringify({ run_id: "r", args: { split: "eval" } }, null, 2) + "\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RunStore.updateManifest() keeps the keys of an old manifest and their order", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "old");
    await Deno.mkdir(dir);
    const before = await Deno.readTextFile(join(OLD_RUN, "manifest.json"));
    await Deno.writeTextFile(join(dir, "manifest.json"), before);
    const { store } = await RunStore.open(dir);
    await store.updateManifest({ status: "running" });
    await store.close();
    const after = JSON.parse(
      await Deno.readTextFile(join(dir, "manifest.json")),
    );
    assert.deepEqual(Object.keys(after), Object.keys(JSON.parse(before)));
    assert.equal(after.status, "running");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
