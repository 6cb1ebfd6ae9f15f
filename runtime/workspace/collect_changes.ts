import { diffSnapshots, type DiffSnapshotsOptions } from "./diff_snapshots.ts";
import type { FileChange } from "./file_change.ts";
import { rejectSpecialFiles } from "./reject_special_files.ts";
import {
  snapshot,
  type SnapshotOptions,
  type WorkspaceSnapshot,
} from "./snapshot.ts";

/** Options for `collectChanges`. */
export interface CollectChangesOptions
  extends Omit<SnapshotOptions, "sweep" | "known">, DiffSnapshotsOptions {}

/** An execution's workspace changes, and the snapshot to diff the next execution against. */
export interface CollectedChanges {
  readonly changes: readonly FileChange[];
  readonly snapshot: WorkspaceSnapshot;
}

/**
 * After an execution: snapshot the workspace, diff it against `before` (hashing regular files), then
 * remove the special files it found. Each special file appears in `changes` with `rejected`. The
 * snapshot sweeps what it cannot record (names that are not UTF-8, paths too long for PATH_MAX, new
 * entries past `maxEntries`): each such entry is removed and appears as a created entry with
 * `rejected` giving the reason, past the first 100 as one summary change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectChanges } from "./collect_changes.ts";
 * import { snapshot } from "./snapshot.ts";
 * const dir = await Deno.makeTempDir();
 * const before = await snapshot(dir);
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * await Deno.symlink("/", `${dir}/root`);
 * const { changes, snapshot: next } = await collectChanges(dir, before);
 * assert.deepEqual(changes.map((c) => c.rejected ?? "ok"), ["ok", "not a regular file"]);
 * assert.deepEqual([...next.entries.keys()], ["a.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function collectChanges(
  dir: string,
  before: WorkspaceSnapshot,
  options: CollectChangesOptions = {},
): Promise<CollectedChanges> {
  const after = await snapshot(dir, {
    ...options,
    sweep: true,
    known: before.entries,
  });
  const changes = await diffSnapshots(before, after, options);
  const { snapshot: kept } = await rejectSpecialFiles(dir, after);
  const swept: FileChange[] = after.removed.map((r) => ({
    path: r.path,
    change: "created",
    kind: r.kind,
    rejected: `removed: ${r.reason}`,
  }));
  if (after.removedUnlisted > 0) {
    swept.push({
      path: "…",
      change: "created",
      kind: "other",
      rejected:
        `removed: ${after.removedUnlisted} more entries that could not be recorded, not listed one by one`,
    });
  }
  return { changes: [...changes, ...swept], snapshot: kept };
}
