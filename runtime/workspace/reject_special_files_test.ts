import assert from "node:assert/strict";
import { rejectSpecialFiles } from "./reject_special_files.ts";
import { snapshot } from "./snapshot.ts";

Deno.test("rejectSpecialFiles() unlinks symlinks, FIFOs and sockets, never their targets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa-ws-test-" });
  const outside = await Deno.makeTempFile({ prefix: "mappa-target-" });
  try {
    await Deno.writeTextFile(`${dir}/keep.txt`, "k");
    await Deno.mkdir(`${dir}/d`);
    await Deno.symlink(outside, `${dir}/d/link`);
    const mkfifo = new Deno.Command("mkfifo", { args: [`${dir}/fifo`] });
    assert((await mkfifo.output()).success);
    using _socket = Deno.listen({ transport: "unix", path: `${dir}/sock` });
    const { rejected, snapshot: kept } = await rejectSpecialFiles(
      dir,
      await snapshot(dir),
    );
    assert.deepEqual(rejected.map((r) => [r.path, r.kind, r.rejected]), [
      ["d/link", "symlink", "not a regular file"],
      ["fifo", "fifo", "not a regular file"],
      ["sock", "socket", "not a regular file"],
    ]);
    assert.deepEqual([...kept.entries.keys()].sort(), ["d", "keep.txt"]);
    const left = await snapshot(dir);
    assert.deepEqual([...left.entries.keys()].sort(), ["d", "keep.txt"]);
    assert((await Deno.lstat(outside)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside);
  }
});
