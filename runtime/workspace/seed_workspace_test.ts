import assert from "node:assert/strict";
import { seedWorkspace } from "./seed_workspace.ts";

Deno.test("seedWorkspace() copies inputs under their names, creating folders", async () => {
  const root = await Deno.makeTempDir({ prefix: "mappa-seed-test-" });
  try {
    await Deno.writeTextFile(`${root}/train.csv`, "a\n1\n");
    await seedWorkspace(`${root}/ws`, [
      { from: `${root}/train.csv`, as: "train.csv" },
      { from: `${root}/train.csv`, as: "data/copy.csv" },
    ]);
    assert.equal(await Deno.readTextFile(`${root}/ws/train.csv`), "a\n1\n");
    assert.equal(await Deno.readTextFile(`${root}/ws/data/copy.csv`), "a\n1\n");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("seedWorkspace() refuses targets outside the workspace and existing entries", async () => {
  const root = await Deno.makeTempDir({ prefix: "mappa-seed-test-" });
  try {
    await Deno.writeTextFile(`${root}/in.txt`, "x");
    for (const as of ["../escape.txt", "/etc/x", "a/../../b", "", "./a"]) {
      await assert.rejects(
        seedWorkspace(`${root}/ws`, [{ from: `${root}/in.txt`, as }]),
        TypeError,
        as,
      );
    }
    await seedWorkspace(`${root}/ws`, [{
      from: `${root}/in.txt`,
      as: "in.txt",
    }]);
    await assert.rejects(
      seedWorkspace(`${root}/ws`, [{ from: `${root}/in.txt`, as: "in.txt" }]),
      /already has an entry there/,
    );
    await assert.rejects(
      seedWorkspace(`${root}/ws`, [{
        from: `${root}/missing.txt`,
        as: "m.txt",
      }]),
      /Cannot seed/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
