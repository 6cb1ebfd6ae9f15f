import { resolve } from "node:path";
import {
  closeFd,
  LibcError,
  type RawStat,
  readNames,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  S_IFSOCK,
  statAt,
} from "./_libc.ts";
import { openDirNoFollow, openDirPath } from "./_open_dir.ts";
import { removeTree } from "./_remove_tree.ts";
import type { EntryKind } from "./file_change.ts";

/** One workspace entry, as lstat (statx without following) saw it: symlinks are never followed. */
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

/** An entry a sweeping snapshot could not record, so removed (a whole tree for a directory). */
export interface RemovedEntry {
  /** Relative path; a name that is not UTF-8 shows with U+FFFD in place of its bad bytes. */
  readonly path: string;
  readonly kind: EntryKind;
  /** Why it could not be recorded, e.g. "name is not UTF-8". */
  readonly reason: string;
}

/** Every entry under a workspace root at one moment, keyed by relative path. */
export interface WorkspaceSnapshot {
  /** Absolute path of the workspace root. */
  readonly root: string;
  readonly entries: ReadonlyMap<string, SnapshotEntry>;
  /** More entries existed than `maxEntries` (without `sweep`); the rest were not listed. */
  readonly truncated: boolean;
  /** With `sweep`: the first entries removed because they could not be recorded (at most 100). */
  readonly removed: readonly RemovedEntry[];
  /** With `sweep`: how many more entries were removed than `removed` lists. */
  readonly removedUnlisted: number;
}

/** Options for `snapshot`. */
export interface SnapshotOptions {
  /**
   * Most entries listed; agent code can create millions.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Remove (and report in `removed`) what cannot be recorded: names that are not UTF-8, paths whose
   * absolute form would not fit PATH_MAX, entries past `maxEntries`. Without it they are skipped.
   * @default false
   */
  sweep?: boolean;
  /**
   * Paths of the previous snapshot: they are always listed, and new entries only while the total stays
   * within `maxEntries`, so entries past the cap are new ones (an agent's flood) and never older files.
   */
  known?: ReadonlyMap<string, unknown>;
}

/** Most removed entries a snapshot lists one by one; the rest are counted. */
export const MAX_LISTED_REMOVED = 100;
/** Linux PATH_MAX, with its NUL: a recorded path joined to its root fits it, so any tool can open it. */
const PATH_MAX = 4096;
/** Hand the event loop back this often during a walk (the calls below are synchronous). */
const YIELD_MS = 10;

/** The kind of a statx result. */
function entryKind(type: number): EntryKind {
  switch (type) {
    case S_IFLNK:
      return "symlink";
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    case S_IFBLK:
    case S_IFCHR:
      return "device";
    default:
      return "other";
  }
}

function toEntry(path: string, st: RawStat): SnapshotEntry {
  return {
    path,
    kind: entryKind(st.type),
    size: st.size,
    mtime_ms: st.mtime_ms,
    ctime_ms: st.ctime_ms,
    ino: st.ino,
    dev: st.dev,
    uid: st.uid,
    gid: st.gid,
  };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A directory being walked: its identity, and the subdirectories still to walk (popped from the end). */
interface Frame {
  readonly parts: readonly Uint8Array[];
  readonly ino: number;
  readonly dev: number;
  readonly subdirs: {
    readonly raw: Uint8Array;
    readonly rel: string;
    readonly ino: number;
    readonly dev: number;
  }[];
}

// ignoreBOM keeps a leading U+FEFF: "\u{feff}a" and "a" are two names, never one path.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Lists a workspace by directory handle and raw names (getdents64 and statx relative to each
 * directory, opened component by component with O_NOFOLLOW): symlinks are recorded as symlinks and
 * never followed, any name and any depth are walked, and at most `maxEntries` entries are listed.
 * With `sweep`, what cannot be recorded is removed and reported, so no agent-made path makes it throw.
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
  const sweep = options.sweep ?? false;
  const known = options.known;
  // Room for new entries: what the previous snapshot listed (and still exists) is not counted against it.
  let newEntries = 0;
  const newRoom = maxEntries - (known?.size ?? 0);
  const root = resolve(dir);
  const rootLink = await Deno.lstat(root);
  if (!rootLink.isDirectory) {
    throw new TypeError(
      `Cannot snapshot workspace "${dir}": it is a ${
        rootLink.isSymlink ? "symlink" : "special file"
      }, not a directory`,
    );
  }
  const maxPathBytes = PATH_MAX - 2 - new TextEncoder().encode(root).length;
  const rootFd = openDirNoFollow(undefined, root);
  const rootStat = statAt(rootFd);
  closeFd(rootFd);
  const encoder = new TextEncoder();
  const entries = new Map<string, SnapshotEntry>();
  const removed: RemovedEntry[] = [];
  let removedUnlisted = 0;
  let truncated = false;

  let lastYield = Date.now();
  /** Records the entries of the open directory `fd` at `rel`; returns its subdirectories, last first. */
  const list = async (fd: number, rel: string): Promise<Frame["subdirs"]> => {
    const subdirs: Frame["subdirs"] = [];
    if (truncated) return subdirs;
    let names: Uint8Array[];
    try {
      names = readNames(fd).sort(compareBytes);
    } catch (e) {
      if (rel === "" || !(e instanceof LibcError)) throw e;
      return subdirs; // unreadable meanwhile: listed, not walked
    }
    for (const raw of names) {
      // A flood of entries in one directory must not hold the event loop for seconds.
      if (Date.now() - lastYield > YIELD_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = Date.now();
      }
      let st: RawStat;
      try {
        st = statAt(fd, raw);
      } catch (e) {
        if (e instanceof LibcError) continue; // gone meanwhile
        throw e;
      }
      let name: string | undefined;
      try {
        name = strict.decode(raw);
      } catch {
        name = undefined;
      }
      const shown = name ?? lossy.decode(raw);
      const path = rel === "" ? shown : `${rel}/${shown}`;
      const reason = name === undefined
        ? "name is not UTF-8"
        : encoder.encode(path).length > maxPathBytes
        ? `path longer than ${maxPathBytes} bytes`
        : known === undefined
        ? (entries.size >= maxEntries
          ? `past the cap of ${maxEntries} entries`
          : undefined)
        : !known.has(path) && newEntries >= newRoom
        ? `past the cap of ${maxEntries} entries`
        : undefined;
      if (reason === undefined) {
        if (known !== undefined && !known.has(path)) newEntries++;
        const entry = toEntry(path, st);
        entries.set(path, entry);
        if (entry.kind === "dir") {
          subdirs.push({ raw, rel: path, ino: st.ino, dev: st.dev });
        }
        continue;
      }
      if (!sweep) {
        if (name !== undefined && reason.startsWith("past the cap")) {
          truncated = true;
          break;
        }
        continue;
      }
      let gone: boolean;
      try {
        gone = removeTree(fd, raw);
      } catch (e) {
        if (!(e instanceof LibcError)) throw e;
        gone = false;
      }
      const record = {
        path,
        kind: entryKind(st.type),
        reason: gone ? reason : `${reason}; cannot be removed`,
      };
      if (removed.length < MAX_LISTED_REMOVED) removed.push(record);
      else removedUnlisted++;
    }
    return subdirs.reverse();
  };

  /** The directory of `frame` opened again from the root, or -1 when it is gone or replaced. */
  const reopen = (frame: Frame): number => {
    let fd: number;
    try {
      fd = openDirPath(root, frame.parts);
    } catch (e) {
      if (e instanceof LibcError) return -1;
      throw e;
    }
    const st = statAt(fd);
    if (st.ino === frame.ino && st.dev === frame.dev) return fd;
    closeFd(fd);
    return -1;
  };

  // Depth first, one directory handle open at a time: down by openat(O_NOFOLLOW), up by "..", which
  // must be the directory it came from (else it is opened again from the root).
  let fd = openDirPath(root, []);
  try {
    const stack: Frame[] = [{
      parts: [],
      ino: rootStat.ino,
      dev: rootStat.dev,
      subdirs: await list(fd, ""),
    }];
    while (stack.length > 0) {
      if (Date.now() - lastYield > YIELD_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = Date.now();
      }
      const frame = stack.at(-1)!;
      const next = frame.subdirs.pop();
      if (next !== undefined) {
        let child: number;
        try {
          child = openDirNoFollow(fd, next.raw);
        } catch (e) {
          if (e instanceof LibcError) continue; // gone or replaced meanwhile: listed, not walked
          throw e;
        }
        const st = statAt(child);
        if (st.ino !== next.ino || st.dev !== next.dev) {
          closeFd(child);
          continue;
        }
        closeFd(fd);
        fd = child;
        stack.push({
          parts: [...frame.parts, next.raw],
          ino: st.ino,
          dev: st.dev,
          subdirs: await list(fd, next.rel),
        });
        continue;
      }
      stack.pop();
      const parent = stack.at(-1);
      if (parent === undefined) break;
      let up = -1;
      if (fd >= 0) {
        try {
          up = openDirNoFollow(fd, "..");
          const st = statAt(up);
          if (st.ino !== parent.ino || st.dev !== parent.dev) {
            closeFd(up);
            up = -1;
          }
        } catch (e) {
          if (!(e instanceof LibcError)) throw e;
        }
        closeFd(fd);
      }
      fd = up >= 0 ? up : reopen(parent);
      // Gone or replaced meanwhile: the rest of it is not walked.
      if (fd < 0) parent.subdirs.length = 0;
    }
  } finally {
    if (fd >= 0) closeFd(fd);
  }
  return { root, entries, truncated, removed, removedUnlisted };
}
