// Issue 13 item 5: what a snapshot cannot record is removed and reported; no agent-made path fails it.
import assert from "node:assert/strict";
import { collectChanges } from "./collect_changes.ts";
import { snapshot } from "./snapshot.ts";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-sweep-test-" });
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs Python in `dir` (names as bytes); returns its stdout. */
async function py(dir: string, code: string): Promise<string> {
  const r = await new Deno.Command("python3", {
    args: ["-c", code],
    cwd: dir,
  }).output();
  assert(r.success, new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout).trim();
}

/** Every name under `dir`, raw, as Python's repr of bytes (what the host never saw is listed too). */
function listAll(dir: string): Promise<string> {
  return py(
    dir,
    `import os
out = []
for root, dirs, files in os.walk(b'.'):
    out += [repr(os.path.join(root, n)) for n in dirs + files]
print(' '.join(sorted(out)))`,
  );
}

Deno.test("collectChanges() removes and reports names that are not UTF-8, with their FIFOs and links", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  await py(
    t.dir,
    `import os
os.mkfifo(b'fifo\\xff')
os.symlink('/etc/passwd', b'link\\xfe')
os.mkdir(b'dir\\xfd'); os.symlink('/', b'dir\\xfd/root'); os.mkfifo(b'dir\\xfd/f')
os.mkdir(b'ok'); os.symlink('/etc', b'ok/etc\\xfc')
open(b'keep.txt', 'w').write('k')`,
  );
  const { changes, snapshot: next } = await collectChanges(t.dir, before);
  assert.deepEqual(
    changes.map((c) => [c.path, c.kind, c.rejected ?? "ok"]),
    [
      ["keep.txt", "file", "ok"],
      ["ok", "dir", "ok"],
      ["dir\ufffd", "dir", "removed: name is not UTF-8"],
      ["fifo\ufffd", "fifo", "removed: name is not UTF-8"],
      ["link\ufffd", "symlink", "removed: name is not UTF-8"],
      ["ok/etc\ufffd", "symlink", "removed: name is not UTF-8"],
    ],
  );
  assert.equal(await listAll(t.dir), "b'./keep.txt' b'./ok'");
  assert.deepEqual([...next.entries.keys()].sort(), ["keep.txt", "ok"]);
  assert((await Deno.lstat("/etc/passwd")).isFile);
});

Deno.test("collectChanges() survives paths past PATH_MAX and trees thousands of levels deep", async () => {
  await using t = await tempDir();
  const before = await snapshot(t.dir);
  // 40 levels of 200-byte names (8 KB of path) with a FIFO at the bottom, and 2,200 levels of "d".
  await py(
    t.dir,
    `import os
top = os.open('.', os.O_RDONLY)
for i in range(40):
    os.mkdir('n' * 200); os.chdir('n' * 200)
os.mkfifo('fifo'); os.symlink('/', 'root')
os.fchdir(top)
for i in range(2200):
    os.mkdir('d'); os.chdir('d')
open('deep.txt', 'w').write('x')`,
  );
  const { changes, snapshot: next } = await collectChanges(t.dir, before);
  const swept = changes.filter((c) => c.rejected?.startsWith("removed: path"));
  assert.equal(swept.length, 2);
  for (const c of swept) {
    assert.match(c.rejected!, /^removed: path longer than \d+ bytes$/);
    assert.equal(c.kind, "dir");
  }
  // Everything kept fits PATH_MAX once joined to the root; what did not is gone from the disk.
  const longest = Math.max(
    ...[...next.entries.keys()].map((p) => `${t.dir}/${p}`.length),
  );
  assert(longest < 4096, `${longest}`);
  const left = await py(
    t.dir,
    `import os
longest, stack = 0, [(os.open('.', os.O_RDONLY), 1)]
while stack:
    fd, n = stack.pop()
    for e in os.scandir(fd):
        longest = max(longest, n + len(e.name))
        if e.is_dir(follow_symlinks=False):
            stack.append((os.open(e.name, os.O_RDONLY, dir_fd=fd), n + len(e.name) + 1))
    os.close(fd)
print(longest + len(${JSON.stringify(t.dir)}))`,
  );
  assert(Number(left) < 4096, left);
  // And the next execution's snapshot is clean.
  const again = await collectChanges(t.dir, next);
  assert.deepEqual(again.changes, []);
});

Deno.test("collectChanges() removes new entries past the cap, keeps older files, and reports them", async () => {
  await using t = await tempDir();
  for (const n of ["z1", "z2", "z3"]) {
    await Deno.writeTextFile(`${t.dir}/${n}`, n);
  }
  const before = await snapshot(t.dir, { maxEntries: 20 });
  // 150 new files sort before the older ones: the older ones stay, 17 new ones fit, 133 go.
  await py(
    t.dir,
    `for i in range(150): open('a%03d' % i, 'w').write('x')`,
  );
  const { changes, snapshot: next } = await collectChanges(t.dir, before, {
    maxEntries: 20,
  });
  assert.equal(next.entries.size, 20);
  for (const n of ["z1", "z2", "z3"]) assert(next.entries.has(n));
  const kept = changes.filter((c) => c.rejected === undefined);
  assert.equal(kept.length, 17);
  const removed = changes.filter((c) => c.rejected !== undefined);
  assert.equal(removed.length, 101);
  assert.equal(
    removed[0]!.rejected,
    "removed: past the cap of 20 entries",
  );
  assert.deepEqual(removed.at(-1), {
    path: "…",
    change: "created",
    kind: "other",
    rejected:
      "removed: 33 more entries that could not be recorded, not listed one by one",
  });
  assert.equal((await listAll(t.dir)).split(" ").length, 20);
});
