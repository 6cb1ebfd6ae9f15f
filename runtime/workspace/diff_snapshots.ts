import { join } from "node:path";
import { type FileChange, NOT_A_REGULAR_FILE } from "./file_change.ts";
import { hashWorkspaceFile, MAX_HASH_BYTES } from "./hash_workspace_file.ts";
import type { SnapshotEntry, WorkspaceSnapshot } from "./snapshot.ts";

/** Options for `diffSnapshots`. */
export interface DiffSnapshotsOptions {
  /**
   * Created or modified files larger than this are listed without `sha256`.
   * @default MAX_HASH_BYTES (256 MiB)
   */
  maxHashBytes?: number;
}

const HASH_CONCURRENCY = 8;

function isModified(a: SnapshotEntry, b: SnapshotEntry): boolean {
  if (a.kind !== b.kind) return true;
  if (a.kind === "dir") return false;
  if (a.size !== b.size || a.mtime_ms !== b.mtime_ms || a.ino !== b.ino) {
    return true;
  }
  // A ctime change with the same owner catches writes that reset mtime; a changed owner means the
  // sandbox chowned the workspace to another slot's uid, which changes ctime by itself.
  return a.ctime_ms !== b.ctime_ms && a.uid === b.uid && a.gid === b.gid;
}

async function stillExists(root: string, path: string): Promise<boolean> {
  try {
    await Deno.lstat(join(root, path));
    return true;
  } catch {
    return false;
  }
}

async function describe(
  root: string,
  entry: SnapshotEntry,
  change: "created" | "modified",
  maxBytes: number,
): Promise<FileChange> {
  const base = {
    path: entry.path,
    change,
    kind: entry.kind,
    size: entry.size,
  };
  if (entry.kind === "dir") return base;
  if (entry.kind !== "file") return { ...base, rejected: NOT_A_REGULAR_FILE };
  const hashed = await hashWorkspaceFile(root, entry.path, {
    expected: { ino: entry.ino, dev: entry.dev },
    maxBytes,
  });
  if (!hashed.ok) return { ...base, rejected: hashed.reason };
  return hashed.sha256 === null ? base : { ...base, sha256: hashed.sha256 };
}

/**
 * The created, modified and deleted entries between two snapshots of one workspace, sorted by path.
 * Regular files get a sha256 read without following symlinks; every other kind but directories is
 * marked `rejected: "not a regular file"` and never opened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffSnapshots } from "./diff_snapshots.ts";
 * import { snapshot } from "./snapshot.ts";
 * const dir = await Deno.makeTempDir();
 * const before = await snapshot(dir);
 * await Deno.writeTextFile(`${dir}/out.csv`, "a,b\n");
 * const changes = await diffSnapshots(before, await snapshot(dir));
 * assert.deepEqual(changes.map((c) => [c.path, c.change]), [["out.csv", "created"]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function diffSnapshots(
  before: WorkspaceSnapshot,
  after: WorkspaceSnapshot,
  options: DiffSnapshotsOptions = {},
): Promise<FileChange[]> {
  const maxBytes = options.maxHashBytes ?? MAX_HASH_BYTES;
  const toDescribe: [SnapshotEntry, "created" | "modified"][] = [];
  for (const [path, entry] of after.entries) {
    const old = before.entries.get(path);
    if (old === undefined) toDescribe.push([entry, "created"]);
    else if (isModified(old, entry)) toDescribe.push([entry, "modified"]);
  }
  const changes: FileChange[] = [];
  for (let i = 0; i < toDescribe.length; i += HASH_CONCURRENCY) {
    const batch = toDescribe.slice(i, i + HASH_CONCURRENCY);
    changes.push(
      ...await Promise.all(
        batch.map(([e, c]) => describe(after.root, e, c, maxBytes)),
      ),
    );
  }
  for (const [path, old] of before.entries) {
    if (after.entries.has(path)) continue;
    // A truncated snapshot lists only some entries: deleted means really gone.
    if (after.truncated && await stillExists(after.root, path)) continue;
    changes.push({ path, change: "deleted", kind: old.kind });
  }
  return changes.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
