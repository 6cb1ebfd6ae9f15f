import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { splitRelative } from "./_split_relative.ts";

/** The identity a file must still have when opened: the inode and device a snapshot recorded. */
export interface FileIdentity {
  readonly ino: number | null;
  readonly dev: number;
}

/** Options for `openWorkspaceFile`. */
export interface OpenWorkspaceFileOptions {
  /** Refuse the file unless its inode and device are these (from the snapshot). */
  expected?: FileIdentity;
}

/** An opened workspace file, or why it was not opened. */
export type OpenResult =
  | { readonly ok: true; readonly handle: FileHandle; readonly size: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Opens a regular file of a workspace for reading without ever following a symlink: every directory
 * on the way is lstat'ed, the file is opened with O_NOFOLLOW | O_NONBLOCK (a FIFO cannot block), and
 * its fstat must show a regular file with the inode the snapshot recorded (reference/sandbox.md §3.5).
 * The caller closes the handle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openWorkspaceFile } from "./open_workspace_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * await Deno.symlink("/etc/passwd", `${dir}/link`);
 * const ok = await openWorkspaceFile(dir, "a.txt");
 * if (ok.ok) await ok.handle.close();
 * assert(ok.ok && ok.size === 2);
 * assert.equal((await openWorkspaceFile(dir, "link")).ok, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openWorkspaceFile(
  root: string,
  path: string,
  options: OpenWorkspaceFileOptions = {},
): Promise<OpenResult> {
  const { expected } = options;
  const parts = splitRelative(path);
  if (parts === undefined) {
    return { ok: false, reason: "not a relative path inside the workspace" };
  }
  let dir = root;
  for (const part of ["", ...parts.slice(0, -1)]) {
    dir = part === "" ? dir : join(dir, part);
    try {
      const info = await Deno.lstat(dir);
      if (!info.isDirectory) {
        return { ok: false, reason: "a path component is not a directory" };
      }
    } catch {
      return { ok: false, reason: "a path component is missing" };
    }
  }
  let handle: FileHandle;
  try {
    handle = await open(
      join(root, path),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    return {
      ok: false,
      reason: code === "ELOOP" ? "not a regular file" : `cannot open: ${code}`,
    };
  }
  const st = await handle.stat();
  const reason = !st.isFile() ? "not a regular file" : expected !== undefined &&
      ((expected.ino !== null && st.ino !== expected.ino) ||
        st.dev !== expected.dev)
    ? "changed after the snapshot"
    : undefined;
  if (reason !== undefined) {
    await handle.close();
    return { ok: false, reason };
  }
  return { ok: true, handle, size: st.size };
}
