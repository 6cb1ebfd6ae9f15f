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
  extends SnapshotOptions, DiffSnapshotsOptions {}

/** An execution's workspace changes, and the snapshot to diff the next execution against. */
export interface CollectedChanges {
  readonly changes: readonly FileChange[];
  readonly snapshot: WorkspaceSnapshot;
}

/**
 * After an execution: snapshot the workspace, diff it against `before` (hashing regular files), then
 * remove the special files it found. Each special file appears in `changes` with `rejected`.
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
  const after = await snapshot(dir, options);
  const changes = await diffSnapshots(before, after, options);
  const { snapshot: kept } = await rejectSpecialFiles(dir, after);
  return { changes, snapshot: kept };
}
