/**
 * Mirrors of the host folders that hold many hidden paths (a package's `datasets/`), so a jail hides
 * them with one bind mount instead of one per path: bwrap rereads /proc/self/mountinfo for every bind
 * mount, and the 36 files scikit-learn and statsmodels ship cost ≈ 5 ms of CPU per execution (private).
 *
 * A mirror is a read-only copy of the folder (modes and mtimes kept, so Python's cached bytecode stays
 * valid) in which each hidden file is an empty file of mode 0000 (opening it fails with EACCES, as the
 * /dev/null bind did) and each hidden folder is empty (mode 0555), made once per process for a list of
 * hidden paths; it is bound read-only at the folder's own path.
 */
import { dirname, join } from "node:path";

/** A folder shown in the jail from a mirror, and the hidden paths the mirror covers. */
export interface HideMirror {
  /** The host folder, shown at the same path in the jail. */
  readonly path: string;
  /** The mirror's host path (0755, root's, read-only in the jail). */
  readonly source: string;
  /** The hidden paths under `path` that the mirror hides. */
  readonly covers: readonly string[];
}

/** Mirrored folders are named this, and a folder is mirrored only from this many hidden paths on. */
const MIRRORED_NAME = "datasets";
const MIN_HIDDEN = 4;
/** A folder bigger than this (what would be copied) keeps one mount per hidden path. */
const MAX_ENTRIES = 5000;
const MAX_BYTES = 64 << 20;
/** How far above a hidden path its mirrored folder may be. */
const MAX_DEPTH = 3;

const made = new Map<string, HideMirror[]>();
let base: string | undefined;

/** The folder named `datasets` at most `MAX_DEPTH` levels above `path`, if any. */
function mirrorRoot(path: string): string | undefined {
  let d = dirname(path);
  for (let i = 0; i < MAX_DEPTH && d !== "/"; i++, d = dirname(d)) {
    if (d.endsWith(`/${MIRRORED_NAME}`)) return d;
  }
  return undefined;
}

/** Entries and bytes under `dir` that a mirror would copy, or undefined when over the caps or odd. */
function measure(dir: string, hidden: ReadonlySet<string>): boolean {
  let entries = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of Deno.readDirSync(d)) {
      const path = join(d, e.name);
      if (++entries > MAX_ENTRIES) return false;
      if (hidden.has(path)) continue;
      const info = Deno.lstatSync(path);
      if (info.isDirectory) stack.push(path);
      else if (info.isFile) bytes += info.size;
      else if (!info.isSymlink) return false; // a device or FIFO: keep the mounts
      if (bytes > MAX_BYTES) return false;
    }
  }
  return true;
}

function copyTree(src: string, dest: string, hidden: ReadonlySet<string>) {
  const info = Deno.lstatSync(src);
  Deno.mkdirSync(dest);
  for (const e of Deno.readDirSync(src)) {
    const from = join(src, e.name);
    const to = join(dest, e.name);
    const st = Deno.lstatSync(from);
    if (hidden.has(from)) {
      if (st.isDirectory) {
        Deno.mkdirSync(to);
        Deno.chmodSync(to, 0o555);
      } else {
        Deno.writeFileSync(to, new Uint8Array(0), { mode: 0 });
        Deno.chmodSync(to, 0);
      }
    } else if (st.isDirectory) copyTree(from, to, hidden);
    else if (st.isSymlink) Deno.symlinkSync(Deno.readLinkSync(from), to);
    else {
      Deno.copyFileSync(from, to);
      Deno.chmodSync(to, (st.mode ?? 0o644) & 0o755);
      if (st.mtime !== null) Deno.utimeSync(to, st.atime ?? st.mtime, st.mtime);
    }
  }
  Deno.chmodSync(dest, (info.mode ?? 0o755) & 0o755);
  if (info.mtime !== null) {
    Deno.utimeSync(dest, info.atime ?? info.mtime, info.mtime);
  }
}

/** Removes the mirrors of mappa processes that no longer run (killed before their unload handler). */
function removeStale(tmp: string): void {
  for (const e of Deno.readDirSync(tmp)) {
    const pid = /^mappa-hide-(\d+)-/.exec(e.name)?.[1];
    if (pid === undefined || Number(pid) === Deno.pid) continue;
    try {
      Deno.statSync(`/proc/${pid}`);
    } catch {
      try {
        Deno.removeSync(join(tmp, e.name), { recursive: true });
      } catch {
        // another process's, or gone
      }
    }
  }
}

function removeOnExit(dir: string): void {
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
}

/**
 * Mirrors for `hidden` (absolute host paths under /usr or /etc, existing now), made on the first call
 * for that list and reused by every later one in this process; removed when the process exits. A
 * folder is mirrored when at least four hidden paths lie under it and it is small; any failure keeps
 * the one-mount-per-path way for that folder.
 */
export function hideMirrors(hidden: readonly string[]): HideMirror[] {
  const key = hidden.join("\0");
  const cached = made.get(key);
  if (cached !== undefined) return cached;
  const groups = new Map<string, string[]>();
  for (const path of hidden) {
    const root = mirrorRoot(path);
    if (root !== undefined) groups.set(root, [...groups.get(root) ?? [], path]);
  }
  const out: HideMirror[] = [];
  for (const [root, covers] of groups) {
    if (covers.length < MIN_HIDDEN) continue;
    const set = new Set(covers);
    try {
      if (!measure(root, set)) continue;
      if (base === undefined) {
        base = Deno.makeTempDirSync({ prefix: `mappa-hide-${Deno.pid}-` });
        Deno.chmodSync(base, 0o755);
        try {
          removeStale(dirname(base));
        } catch {
          // the temp folder cannot be listed: nothing to clean
        }
        removeOnExit(base);
      }
      const source = join(base, String(made.size) + "-" + String(out.length));
      copyTree(root, source, set);
      out.push({ path: root, source, covers });
    } catch {
      // unreadable or changing meanwhile: this folder keeps its mounts
    }
  }
  made.set(key, out);
  return out;
}
