import { type FileHandle, open } from "node:fs/promises";
import { constants } from "node:fs";
import {
  closeFd,
  ELOOP,
  ENOENT,
  ENOTDIR,
  LibcError,
  O_NOFOLLOW,
  O_PATH,
  openAt,
  S_IFREG,
  statAt,
} from "./_libc.ts";
import { openDirPath } from "./_open_dir.ts";
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
  | {
    readonly ok: true;
    readonly handle: FileHandle;
    readonly size: number;
    /** Bytes the file really holds on disk (st_blocks × 512): less than `size` for a sparse file. */
    readonly allocated: number;
  }
  | { readonly ok: false; readonly reason: string };

function libcReason(e: unknown): string {
  if (e instanceof LibcError) {
    return e.errno === ENOENT
      ? "cannot open: ENOENT"
      : `cannot open: errno ${e.errno}`;
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return `cannot open: ${code}`;
  throw e;
}

/**
 * Opens a regular file of a workspace for reading without ever following a symlink or opening anything
 * but a regular file: each directory on the way is opened with O_NOFOLLOW | O_DIRECTORY relative to the
 * previous one, the last component with O_PATH | O_NOFOLLOW (which opens neither a FIFO nor a device,
 * and a symlink only as itself), and only when fstat of that handle shows a regular file (with the
 * inode the snapshot recorded) is the same inode reopened for reading through /proc/self/fd. Every
 * host-side read of workspace content goes through here (reference/sandbox.md §3.5). The caller
 * closes the handle; read at most `size` bytes, or a cap of your own.
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
  let dirFd: number;
  try {
    dirFd = openDirPath(root, parts.slice(0, -1));
  } catch (e) {
    if (e instanceof LibcError && (e.errno === ELOOP || e.errno === ENOTDIR)) {
      return { ok: false, reason: "a path component is not a directory" };
    }
    if (e instanceof LibcError && e.errno === ENOENT) {
      return { ok: false, reason: "a path component is missing" };
    }
    return { ok: false, reason: libcReason(e) };
  }
  let pathFd: number;
  try {
    pathFd = openAt(dirFd, parts.at(-1)!, O_PATH | O_NOFOLLOW);
  } catch (e) {
    return { ok: false, reason: libcReason(e) };
  } finally {
    closeFd(dirFd);
  }
  try {
    const st = statAt(pathFd);
    if (st.type !== S_IFREG) return { ok: false, reason: "not a regular file" };
    if (
      expected !== undefined &&
      ((expected.ino !== null && st.ino !== expected.ino) ||
        st.dev !== expected.dev)
    ) return { ok: false, reason: "changed after the snapshot" };
    // The O_PATH handle pins the inode: /proc/self/fd/N reopens that regular file, whatever its path now is.
    const handle = await open(
      `/proc/self/fd/${pathFd}`,
      constants.O_RDONLY | constants.O_NONBLOCK,
    );
    const again = await handle.stat();
    if (!again.isFile() || again.ino !== st.ino || again.dev !== st.dev) {
      await handle.close();
      return { ok: false, reason: "changed after the snapshot" };
    }
    return {
      ok: true,
      handle,
      size: again.size,
      allocated: again.blocks * 512,
    };
  } catch (e) {
    return { ok: false, reason: libcReason(e) };
  } finally {
    closeFd(pathFd);
  }
}
