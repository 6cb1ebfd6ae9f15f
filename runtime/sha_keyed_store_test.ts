import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { ShaKeyedStore } from "./sha_keyed_store.ts";

const Entry = z.strictObject({ key: z.string(), n: z.number().int() });
const A = "a".repeat(64);
const B = "b".repeat(64);

async function withStore(
  fn: (store: ShaKeyedStore<typeof Entry>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(new ShaKeyedStore(dir, "test cache", Entry));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ShaKeyedStore files an entry under its key's first two digits and reads it back", async () => {
  await withStore(async (store) => {
    await store.set({ key: A, n: 1 });
    const text = await Deno.readTextFile(join(store.dir, "aa", `${A}.json`));
    assert.deepEqual(JSON.parse(text), { key: A, n: 1 });
    assert.deepEqual(await store.get(A), { key: A, n: 1 });
    await store.set({ key: A, n: 2 });
    assert.equal((await store.get(A))?.n, 2);
    assert.equal(await store.get(B), undefined);
  });
});

Deno.test("ShaKeyedStore treats a corrupt, invalid, misfiled or unreadable entry as a miss", async () => {
  await withStore(async (store) => {
    const path = join(store.dir, "aa", `${A}.json`);
    await Deno.mkdir(join(store.dir, "aa"), { recursive: true });
    for (
      const text of [
        "{not json",
        JSON.stringify({ key: A, n: "one" }),
        JSON.stringify({ key: B, n: 1 }), // another key's entry copied here
      ]
    ) {
      await Deno.writeTextFile(path, text);
      assert.equal(await store.get(A), undefined, text);
    }
    // An entry that cannot be read at all (a folder in its place) is a miss too.
    await Deno.remove(path);
    await Deno.mkdir(path);
    assert.equal(await store.get(A), undefined);
  });
});

Deno.test("ShaKeyedStore refuses a key that is not a sha256 and an entry its schema rejects", async () => {
  await withStore(async (store) => {
    await assert.rejects(() => store.get("../../etc/passwd"), {
      name: "RangeError",
      message:
        'Cannot use test cache key "../../etc/passwd": it must be 64 lower-case hex digits (a sha256)',
    });
    await assert.rejects(() => store.set({ key: A.toUpperCase(), n: 1 }), {
      name: "RangeError",
    });
    await assert.rejects(() => store.set({ key: A, n: 1.5 }), {
      name: "TypeError",
      message:
        /^Cannot store the test cache entry: at n: .*; only valid entries are stored$/,
    });
    assert.equal(await store.get(A), undefined);
  });
});
