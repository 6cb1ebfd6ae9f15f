import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { diffSnapshots } from "./diff_snapshots.ts";
import { snapshot } from "./snapshot.ts";

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-ws-test-" });
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("diffSnapshots() reports created, modified and deleted entries with sha256", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.dir}/keep.txt`, "same");
  await Deno.writeTextFile(`${t.dir}/edit.txt`, "v1");
  await Deno.writeTextFile(`${t.dir}/gone.txt`, "bye");
  const before = await snapshot(t.dir);
  await Deno.writeTextFile(`${t.dir}/edit.txt`, "v2 longer");
  await Deno.remove(`${t.dir}/gone.txt`);
  await Deno.mkdir(`${t.dir}/out`);
  await Deno.writeTextFile(`${t.dir}/out/new.csv`, "a,b\n");
  const changes = await diffSnapshots(before, await snapshot(t.dir));
  assert.deepEqual(
    changes.map(({ path, change, kind, size, sha256 }) => ({
      path,
      change,
      kind,
      size,
      sha256,
    })),
    [
      {
        path: "edit.txt",
        change: "modified",
        kind: "file",
        size: 9,
        sha256: sha("v2 longer"),
      },
      {
        path: "gone.txt",
        change: "deleted",
        kind: "file",
        size: undefined,
        sha256: undefined,
      },
      {
        path: "out",
        change: "created",
        kind: "dir",
        size: changes[2]!.size,
        sha256: undefined,
      },
      {
        path: "out/new.csv",
        change: "created",
        kind: "file",
        size: 4,
        sha256: sha("a,b\n"),
      },
    ],
  );
});

Deno.test("diffSnapshots() sees a same-size rewrite whose mtime was reset (ctime moved)", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.dir}/model.pkl`, "AAAA");
  const { mtime, atime } = await Deno.lstat(`${t.dir}/model.pkl`);
  const before = await snapshot(t.dir);
  // Deno reports ctime in whole seconds: cross into the next one.
  await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
  await Deno.writeTextFile(`${t.dir}/model.pkl`, "BBBB");
  await Deno.utime(`${t.dir}/model.pkl`, atime!, mtime!);
  const changes = await diffSnapshots(before, await snapshot(t.dir));
  assert.deepEqual(changes.map((c) => [c.path, c.change, c.sha256]), [
    ["model.pkl", "modified", sha("BBBB")],
  ]);
});

Deno.test("diffSnapshots() refuses a file swapped for a symlink after the snapshot", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  await Deno.writeTextFile(`${t.dir}/x.txt`, "data");
  const after = await snapshot(t.dir);
  await Deno.remove(`${t.dir}/x.txt`);
  await Deno.symlink("/etc/passwd", `${t.dir}/x.txt`);
  const [change] = await diffSnapshots(before, after);
  assert.equal(change?.sha256, undefined);
  assert.equal(change?.rejected, "not a regular file");
});

Deno.test("diffSnapshots() refuses a file replaced by another inode after the snapshot", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  await Deno.writeTextFile(`${t.dir}/x.txt`, "data");
  const after = await snapshot(t.dir);
  await Deno.writeTextFile(`${t.dir}/y.txt`, "other");
  await Deno.rename(`${t.dir}/y.txt`, `${t.dir}/x.txt`);
  const [change] = await diffSnapshots(before, after);
  assert.equal(change?.rejected, "changed after the snapshot");
});

Deno.test("diffSnapshots() refuses a directory swapped for a symlink to the host's root", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  await Deno.mkdir(`${t.dir}/etc`);
  await Deno.writeTextFile(`${t.dir}/etc/passwd`, "mine");
  const after = await snapshot(t.dir);
  await Deno.remove(`${t.dir}/etc`, { recursive: true });
  await Deno.symlink("/etc", `${t.dir}/etc`);
  const changes = await diffSnapshots(before, after);
  assert.deepEqual(changes.map((c) => [c.path, c.sha256, c.rejected]), [
    ["etc", undefined, undefined],
    ["etc/passwd", undefined, "a path component is not a directory"],
  ]);
});

Deno.test("diffSnapshots() marks special files rejected without opening them", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  assert(
    (await new Deno.Command("mkfifo", { args: [`${t.dir}/pipe`] }).output())
      .success,
  );
  await Deno.symlink("/etc/shadow", `${t.dir}/link`);
  const changes = await diffSnapshots(before, await snapshot(t.dir));
  assert.deepEqual(changes.map((c) => [c.path, c.kind, c.rejected]), [
    ["link", "symlink", "not a regular file"],
    ["pipe", "fifo", "not a regular file"],
  ]);
});

Deno.test("diffSnapshots() leaves files over maxHashBytes unhashed", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  await Deno.writeFile(`${t.dir}/big.bin`, new Uint8Array(100));
  const [change] = await diffSnapshots(before, await snapshot(t.dir), {
    maxHashBytes: 10,
  });
  assert.equal(change?.size, 100);
  assert.equal(change?.sha256, undefined);
  assert.equal(change?.rejected, undefined);
});

Deno.test("diffSnapshots() does not report entries a truncated snapshot left out as deleted", async () => {
  await using t = await tempDir();
  for (let i = 0; i < 5; i++) await Deno.writeTextFile(`${t.dir}/f${i}`, "");
  const before = await snapshot(t.dir);
  await Deno.remove(`${t.dir}/f0`);
  const changes = await diffSnapshots(
    before,
    await snapshot(t.dir, { maxEntries: 2 }),
  );
  assert.deepEqual(changes.map((c) => [c.path, c.change]), [["f0", "deleted"]]);
});
