import assert from "node:assert/strict";
import { openWorkspaceFile } from "./open_workspace_file.ts";

Deno.test("openWorkspaceFile() refuses symlinks in any component, FIFOs and escaping paths", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa-open-test-" });
  try {
    await Deno.symlink("/", `${dir}/root`);
    await Deno.symlink("/etc/passwd", `${dir}/pw`);
    assert(
      (await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output())
        .success,
    );
    const reasons: Record<string, string> = {};
    for (
      const p of [
        "root/etc/passwd",
        "pw",
        "fifo",
        "../x",
        "/etc/passwd",
        "missing",
      ]
    ) {
      const r = await openWorkspaceFile(dir, p);
      if (r.ok) await r.handle.close();
      reasons[p] = r.ok ? "opened" : r.reason;
    }
    assert.deepEqual(reasons, {
      "root/etc/passwd": "a path component is not a directory",
      pw: "not a regular file",
      fifo: "not a regular file",
      "../x": "not a relative path inside the workspace",
      "/etc/passwd": "not a relative path inside the workspace",
      missing: "cannot open: ENOENT",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
