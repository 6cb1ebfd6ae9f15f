import assert from "node:assert/strict";
import { hideMirrors } from "./_hide_mirror.ts";

Deno.test("hideMirrors() copies a datasets folder once, emptying its hidden files (mode 0000) and folders", async () => {
  const root = await Deno.makeTempDir();
  try {
    const ds = `${root}/pkg/datasets`;
    await Deno.mkdir(`${ds}/a/__pycache__`, { recursive: true });
    await Deno.mkdir(`${ds}/data`);
    await Deno.writeTextFile(`${ds}/data/x.csv`, "secret");
    await Deno.writeTextFile(`${ds}/a/__init__.py`, "X = 1\n");
    await Deno.writeTextFile(`${ds}/a/__pycache__/__init__.pyc`, "pyc");
    const old = new Date("2020-01-02T03:04:05Z");
    await Deno.utime(`${ds}/a/__init__.py`, old, old);
    for (const f of ["a/a.csv", "b.csv", "c.csv"]) {
      await Deno.writeTextFile(`${ds}/${f}`, "secret");
    }
    const hidden = ["a/a.csv", "b.csv", "c.csv", "data"].map((f) =>
      `${ds}/${f}`
    );
    const [m, ...rest] = hideMirrors(hidden);
    assert.equal(rest.length, 0);
    assert.equal(m!.path, ds);
    assert.deepEqual([...m!.covers].sort(), [...hidden].sort());
    assert.deepEqual(hideMirrors(hidden), [m], "made once per list");
    const src = m!.source;
    for (const f of ["a/a.csv", "b.csv", "c.csv"]) {
      const info = await Deno.stat(`${src}/${f}`);
      assert.equal(info.size, 0, f);
      assert.equal(info.mode! & 0o777, 0, f);
    }
    assert.deepEqual([...Deno.readDirSync(`${src}/data`)], []);
    assert.equal((await Deno.stat(`${src}/data`)).mode! & 0o777, 0o555);
    assert.equal(await Deno.readTextFile(`${src}/a/__init__.py`), "X = 1\n");
    assert.equal(
      (await Deno.stat(`${src}/a/__init__.py`)).mtime?.getTime(),
      old.getTime(),
      "mtimes kept, so cached bytecode stays valid",
    );
    assert.equal(
      await Deno.readTextFile(`${src}/a/__pycache__/__init__.pyc`),
      "pyc",
    );
    // Fewer than four hidden paths in a folder: no mirror, one mount each.
    assert.deepEqual(hideMirrors(hidden.slice(0, 3)), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
