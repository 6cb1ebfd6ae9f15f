import { closeFd, LibcError, unlinkAt } from "./_libc.ts";
import { openDirPath } from "./_open_dir.ts";
import { type EntryKind, NOT_A_REGULAR_FILE } from "./file_change.ts";
import type { SnapshotEntry, WorkspaceSnapshot } from "./snapshot.ts";

/** An entry removed from a workspace because it was not a regular file or a directory. */
export interface RejectedEntry {
  readonly path: string;
  readonly kind: EntryKind;
  readonly rejected: typeof NOT_A_REGULAR_FILE;
}

/** What `rejectSpecialFiles` removed, and the snapshot without those entries. */
export interface RejectSpecialFilesResult {
  readonly rejected: readonly RejectedEntry[];
  readonly snapshot: WorkspaceSnapshot;
}

/** Unlinks one non-directory entry by its parent's handle; an entry already gone, or whose parent is no longer a directory, is left. */
function removeEntry(dir: string, path: string): void {
  const parts = path.split("/");
  let fd: number;
  try {
    fd = openDirPath(dir, parts.slice(0, -1));
  } catch (e) {
    if (e instanceof LibcError) return;
    throw e;
  }
  try {
    unlinkAt(fd, new TextEncoder().encode(parts.at(-1)!));
  } catch (e) {
    if (!(e instanceof LibcError)) throw e;
  } finally {
    closeFd(fd);
  }
}

/**
 * Removes every symlink, FIFO, socket and device a snapshot lists, so that neither a later execution
 * nor a host collector is tricked by one (reference/sandbox.md §3.5). Symlinks are unlinked, never
 * followed: each is unlinked relative to its directory, opened component by component with O_NOFOLLOW.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rejectSpecialFiles } from "./reject_special_files.ts";
 * import { snapshot } from "./snapshot.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.symlink("/etc/passwd", `${dir}/link`);
 * const { rejected } = await rejectSpecialFiles(dir, await snapshot(dir));
 * assert.deepEqual(rejected, [{ path: "link", kind: "symlink", rejected: "not a regular file" }]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function rejectSpecialFiles(
  dir: string,
  snap: WorkspaceSnapshot,
): Promise<RejectSpecialFilesResult> {
  const rejected: RejectedEntry[] = [];
  const kept = new Map<string, SnapshotEntry>();
  for (const [path, entry] of snap.entries) {
    if (entry.kind === "file" || entry.kind === "dir") {
      kept.set(path, entry);
      continue;
    }
    removeEntry(dir, path);
    rejected.push({ path, kind: entry.kind, rejected: NOT_A_REGULAR_FILE });
  }
  rejected.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return Promise.resolve({ rejected, snapshot: { ...snap, entries: kept } });
}
