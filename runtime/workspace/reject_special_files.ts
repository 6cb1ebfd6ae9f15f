import { join } from "node:path";
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

/**
 * Removes every symlink, FIFO, socket and device a snapshot lists, so that neither a later execution
 * nor a host collector is tricked by one (reference/sandbox.md §3.5). Symlinks are unlinked, never
 * followed.
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
export async function rejectSpecialFiles(
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
    try {
      await Deno.remove(join(dir, path));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    rejected.push({ path, kind: entry.kind, rejected: NOT_A_REGULAR_FILE });
  }
  rejected.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { rejected, snapshot: { ...snap, entries: kept } };
}
