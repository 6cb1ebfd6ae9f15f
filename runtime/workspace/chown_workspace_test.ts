import assert from "node:assert/strict";
import { chownWorkspace } from "./chown_workspace.ts";

Deno.test(
  "chownWorkspace() hands the tree to the owner and never follows a symlink",
  {
    ignore: Deno.uid() !== 0,
  },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "mappa-chown-test-" });
    const outside = await Deno.makeTempFile({ prefix: "mappa-target-" });
    try {
      await Deno.mkdir(`${dir}/sub`);
      await Deno.writeTextFile(`${dir}/sub/f.txt`, "x");
      await Deno.symlink(outside, `${dir}/link`);
      await chownWorkspace(dir, { uid: 200_099, gid: 200_000 });
      for (const p of ["", "/sub", "/sub/f.txt", "/link"]) {
        const info = await Deno.lstat(`${dir}${p}`);
        assert.deepEqual([info.uid, info.gid], [200_099, 200_000], p);
      }
      assert.equal((await Deno.lstat(outside)).uid, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(outside);
    }
  },
);
