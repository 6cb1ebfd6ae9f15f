import assert from "node:assert/strict";
import { join } from "node:path";
import { CheckCache } from "./check_cache.ts";

const KEY = "c".repeat(64);

Deno.test("CheckCache keeps a decision, and an entry it cannot read is a miss, never an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = new CheckCache({ dir });
    await cache.set(KEY, { fires: true, note: "hard-coded 42" });
    assert.deepEqual(await cache.get(KEY), {
      fires: true,
      note: "hard-coded 42",
    });
    // A folder where the entry should be (EISDIR): the check runs again.
    const path = join(dir, "cc", `${KEY}.json`);
    await Deno.remove(path);
    await Deno.mkdir(path);
    assert.equal(await cache.get(KEY), undefined);
    // A key that is not a sha256 is the caller's bug, not a miss.
    await assert.rejects(() => cache.get("not-a-key"), { name: "RangeError" });
    await assert.rejects(() => cache.set("not-a-key", { fires: false }), {
      name: "RangeError",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
