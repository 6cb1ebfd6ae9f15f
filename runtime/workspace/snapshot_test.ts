import assert from "node:assert/strict";
import { snapshot } from "./snapshot.ts";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-ws-test-" });
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("snapshot() walks subdirectories and records kinds with lstat", async () => {
  await using t = await tempDir();
  const target = await Deno.makeTempDir({ prefix: "mappa-target-" });
  try {
    await Deno.writeTextFile(`${target}/secret.txt`, "host file");
    await Deno.mkdir(`${t.dir}/a/b`, { recursive: true });
    await Deno.writeTextFile(`${t.dir}/a/b/f.csv`, "x\n");
    await Deno.symlink(target, `${t.dir}/dirlink`);
    await Deno.symlink(`${target}/secret.txt`, `${t.dir}/filelink`);
    const p = new Deno.Command("mkfifo", { args: [`${t.dir}/fifo`] });
    assert((await p.output()).success);
    const snap = await snapshot(t.dir);
    assert.deepEqual(
      [...snap.entries.values()].map((e) => [e.path, e.kind]).sort(),
      [
        ["a", "dir"],
        ["a/b", "dir"],
        ["a/b/f.csv", "file"],
        ["dirlink", "symlink"],
        ["fifo", "fifo"],
        ["filelink", "symlink"],
      ],
    );
    assert.equal(snap.entries.get("a/b/f.csv")?.size, 2);
    assert.equal(snap.truncated, false);
  } finally {
    await Deno.remove(target, { recursive: true });
  }
});

Deno.test("snapshot() stops at maxEntries and says so", async () => {
  await using t = await tempDir();
  for (let i = 0; i < 30; i++) await Deno.writeTextFile(`${t.dir}/f${i}`, "");
  const snap = await snapshot(t.dir, { maxEntries: 10 });
  assert.equal(snap.entries.size, 10);
  assert.equal(snap.truncated, true);
});

Deno.test("snapshot() refuses a root that is a symlink", async () => {
  await using t = await tempDir();
  await Deno.mkdir(`${t.dir}/real`);
  await Deno.symlink(`${t.dir}/real`, `${t.dir}/ws`);
  await assert.rejects(
    snapshot(`${t.dir}/ws`),
    /it is a symlink, not a directory/,
  );
});

Deno.test("snapshot() keeps a leading byte-order mark: two names are never one path", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.dir}/a`, "plain");
  await Deno.writeTextFile(`${t.dir}/\u{feff}a`, "bom");
  const snap = await snapshot(t.dir);
  assert.deepEqual([...snap.entries.keys()].sort(), ["a", "\u{feff}a"]);
  assert.equal(snap.entries.get("\u{feff}a")?.size, 3);
});
