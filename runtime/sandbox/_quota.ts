/**
 * The workspace quota (issue 13 item 3): bytes allocated and entries held under the workspace,
 * measured by walking it while the jail runs; the jail is killed once either goes over the quota.
 */
import type { Watcher, WatchKill } from "./_run_process.ts";

/** What a walk of the workspace found. */
export interface WorkspaceUsage {
  /** Allocated bytes (st_blocks × 512, each inode once): a sparse file counts what it really holds. */
  readonly bytes: number;
  /** Files, folders, links and other entries below the workspace (not the workspace itself). */
  readonly entries: number;
  /** The walk stopped once it passed a cap: the true usage is at least this. */
  readonly capped: boolean;
}

/** Sync work between yields to the event loop, so pipes keep draining during a long walk. */
const SLICE_MS = 4;
/** Checks come at most this often, and at least this rarely. */
const MIN_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;
/** The next check waits this many times as long as the last walk took: the watcher costs ≤ ~5% of a CPU. */
const COST_FACTOR = 20;

/**
 * Walks `dir` without following links, summing allocated bytes and counting entries, and stops as
 * soon as either passes its cap (so a walk costs at most `caps.entries` lstat calls). Entries that
 * vanish meanwhile are skipped.
 */
export async function workspaceUsage(
  dir: string,
  caps: { readonly bytes: number; readonly entries: number },
): Promise<WorkspaceUsage> {
  let bytes = 0;
  let entries = 0;
  const seen = new Set<number>();
  const stack = [dir];
  let slice = performance.now();
  while (stack.length > 0) {
    const current = stack.pop()!;
    let listing: Iterable<Deno.DirEntry>;
    try {
      listing = Deno.readDirSync(current);
    } catch {
      continue; // removed, or replaced by a non-folder meanwhile
    }
    try {
      for (const entry of listing) {
        entries++;
        const path = `${current}/${entry.name}`;
        let info: Deno.FileInfo;
        try {
          info = Deno.lstatSync(path);
        } catch {
          continue;
        }
        const hardLinked = !info.isDirectory && (info.nlink ?? 1) > 1 &&
          info.ino !== null;
        if (!hardLinked || !seen.has(info.ino!)) {
          if (hardLinked) seen.add(info.ino!);
          bytes += (info.blocks ?? 0) * 512;
        }
        if (info.isDirectory) stack.push(path);
        if (entries > caps.entries || bytes > caps.bytes) {
          return { bytes, entries, capped: true };
        }
        if (performance.now() - slice > SLICE_MS) {
          await new Promise((r) => setTimeout(r, 0));
          slice = performance.now();
        }
      }
    } catch {
      // the folder went away while it was listed
    }
  }
  return { bytes, entries, capped: false };
}

/** The quota of one execution. */
export interface WorkspaceQuota {
  readonly disk_mb: number;
  readonly max_files: number;
}

const MIB = 1024 * 1024;

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * Watches one workspace during one execution. The first check sets the allowance: the quota, or
 * what the workspace already held when that was more (so a later turn can still clean up, but not
 * grow it); every later check kills the jail past the allowance, as `file_size_limit` with a message
 * the agent sees.
 */
export class QuotaWatcher implements Watcher {
  readonly final = true;
  readonly #dir: string;
  readonly #quota: WorkspaceQuota;
  #allowed: { bytes: number; entries: number } | undefined;
  #delayMs = MIN_DELAY_MS;
  /** The usage the last check saw. */
  last: WorkspaceUsage | undefined;

  constructor(dir: string, quota: WorkspaceQuota) {
    this.#dir = dir;
    this.#quota = quota;
  }

  get delayMs(): number {
    return this.#delayMs;
  }

  async check(): Promise<WatchKill | null> {
    const quota = {
      bytes: this.#quota.disk_mb * MIB,
      entries: this.#quota.max_files,
    };
    const first = this.#allowed === undefined;
    // The first walk may go further, to learn what earlier turns left; it is still bounded.
    const caps = first
      ? { bytes: quota.bytes * 4, entries: quota.entries * 4 }
      : this.#allowed!;
    const started = performance.now();
    const usage = await workspaceUsage(this.#dir, caps);
    const ms = performance.now() - started;
    this.#delayMs = Math.min(
      MAX_DELAY_MS,
      Math.max(MIN_DELAY_MS, COST_FACTOR * ms),
    );
    this.last = usage;
    if (first) {
      // Over 4x the quota before this run: that dimension is not watched (its size is unknown).
      this.#allowed = {
        bytes: usage.capped && usage.bytes > caps.bytes
          ? Infinity
          : Math.max(quota.bytes, usage.bytes),
        entries: usage.capped && usage.entries > caps.entries
          ? Infinity
          : Math.max(quota.entries, usage.entries),
      };
      return null;
    }
    if (usage.bytes > this.#allowed!.bytes) {
      return {
        status: "file_size_limit",
        error: {
          type: "WorkspaceQuotaExceeded",
          message: `workspace quota exceeded: ${
            count(Math.ceil(usage.bytes / MIB))
          } MiB of ${count(this.#quota.disk_mb)} MiB`,
        },
      };
    }
    if (usage.entries > this.#allowed!.entries) {
      return {
        status: "file_size_limit",
        error: {
          type: "WorkspaceQuotaExceeded",
          message: `workspace quota exceeded: more than ${
            count(this.#allowed!.entries)
          } entries (max_files ${count(this.#quota.max_files)})`,
        },
      };
    }
    return null;
  }
}
