import { join, resolve } from "node:path";
import type { EntryKind } from "./file_change.ts";

/** One workspace entry, as `Deno.lstat` saw it (symlinks are never followed). */
export interface SnapshotEntry {
  readonly path: string;
  readonly kind: EntryKind;
  readonly size: number;
  readonly mtime_ms: number | null;
  readonly ctime_ms: number | null;
  readonly ino: number | null;
  readonly dev: number;
  readonly uid: number | null;
  readonly gid: number | null;
}

/** Every entry under a workspace root at one moment, keyed by relative path. */
export interface WorkspaceSnapshot {
  /** Absolute path of the workspace root. */
  readonly root: string;
  readonly entries: ReadonlyMap<string, SnapshotEntry>;
  /** More entries existed than `maxEntries`; the rest were not listed. */
  readonly truncated: boolean;
}

/** Options for `snapshot`. */
export interface SnapshotOptions {
  /**
   * Most entries listed; agent code can create millions.
   * @default 10000
   */
  maxEntries?: number;
}

/** The kind of an lstat result. */
function entryKind(info: Deno.FileInfo): EntryKind {
  if (info.isSymlink) return "symlink";
  if (info.isFile) return "file";
  if (info.isDirectory) return "dir";
  if (info.isFifo) return "fifo";
  if (info.isSocket) return "socket";
  if (info.isBlockDevice || info.isCharDevice) return "device";
  return "other";
}

/** The snapshot fields of an lstat result. */
function toEntry(path: string, info: Deno.FileInfo): SnapshotEntry {
  return {
    path,
    kind: entryKind(info),
    size: info.size,
    mtime_ms: info.mtime?.getTime() ?? null,
    ctime_ms: info.ctime?.getTime() ?? null,
    ino: info.ino,
    dev: info.dev,
    uid: info.uid,
    gid: info.gid,
  };
}

/**
 * Lists a workspace with `Deno.lstat` only: subdirectories are walked, symlinks are recorded as
 * symlinks and never followed, and at most `maxEntries` entries are listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshot } from "./snapshot.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const snap = await snapshot(dir);
 * assert.equal(snap.entries.get("a.txt")?.kind, "file");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function snapshot(
  dir: string,
  options: SnapshotOptions = {},
): Promise<WorkspaceSnapshot> {
  const maxEntries = options.maxEntries ?? 10_000;
  const rootInfo = await Deno.lstat(dir);
  if (!rootInfo.isDirectory) {
    throw new TypeError(
      `Cannot snapshot workspace "${dir}": it is a ${
        entryKind(rootInfo)
      }, not a directory`,
    );
  }
  const entries = new Map<string, SnapshotEntry>();
  let truncated = false;
  const pending = [""];
  while (pending.length > 0 && !truncated) {
    const rel = pending.shift()!;
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(join(dir, rel))) names.push(e.name);
    } catch (e) {
      // A subdirectory removed meanwhile, or made unreadable to a non-root runtime: listed, not walked.
      if (rel === "") throw e;
      continue;
    }
    names.sort();
    if (entries.size + names.length > maxEntries) {
      names.length = Math.max(0, maxEntries - entries.size);
      truncated = true;
    }
    const infos = await Promise.all(names.map(async (name) => {
      const path = rel === "" ? name : `${rel}/${name}`;
      try {
        return toEntry(path, await Deno.lstat(join(dir, path)));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    }));
    for (const entry of infos) {
      if (entry === undefined) continue;
      entries.set(entry.path, entry);
      if (entry.kind === "dir") pending.push(entry.path);
    }
  }
  return { root: resolve(dir), entries, truncated };
}
