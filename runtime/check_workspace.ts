import { dirname, join, relative, resolve } from "node:path";
import type { ActionKey, RunLog } from "./run_log.ts";

// Both equal the budgets of the copy runJsonProgram makes of the folder, so that copy never drops a file.
/** Bytes a check's restored workspace may hold in all; past it the remaining files are left out. */
export const CHECK_WORKSPACE_BYTES = 256 * 1024 * 1024;
/** Entries (files and folders) a check's restored workspace may hold. */
export const CHECK_WORKSPACE_ENTRIES = 10_000;

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The workspace as it stood right after an action, from the run log: the seeded input files, then every
 * file change of the episode's actions up to and including this one (path -> sha256 of the content in the
 * run's blobs). Files the runtime did not store (`not_stored`), rejected ones (symlinks, FIFOs) and deleted
 * ones are absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * import { workspaceAfter } from "./check_workspace.ts";
 * const run = new FixtureRun();
 * run.started(1, "eval:t1", { files: { "train.csv": "a".repeat(64) } });
 * const key = run.action("modeler", { reply: "done" });
 * assert.deepEqual([...workspaceAfter(run.log, key)], [["train.csv", "a".repeat(64)]]);
 * ```
 */
export function workspaceAfter(
  log: RunLog,
  key: ActionKey,
): Map<string, string> {
  const step = log.action(key).step;
  const files = new Map<string, string>(
    Object.entries(log.episodeStarted(key.episode_id)?.files ?? {}),
  );
  for (const e of log.episodeEvents(key.episode_id)) {
    if (e.kind !== "action" || e.step > step) continue;
    for (const x of e.executions) {
      for (const f of x.files) {
        if (
          f.kind !== "file" || f.rejected || f.change === "deleted" ||
          f.sha256 === undefined
        ) {
          files.delete(f.path);
        } else files.set(f.path, f.sha256);
      }
    }
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What {@linkcode restoreWorkspace} wrote, and what it left out and why. */
export interface RestoredWorkspace {
  readonly restored: number;
  readonly bytes: number;
  /** `"<path> (<why>)"` for each file not restored. */
  readonly skipped: readonly string[];
}

/**
 * Writes `files` (path -> sha256) from the run's content-addressed blobs into `into` as fresh regular
 * files (never links), within {@linkcode CHECK_WORKSPACE_BYTES} and {@linkcode CHECK_WORKSPACE_ENTRIES}.
 * Paths that leave `into`, hashes that are not sha256, blobs that are missing or not regular files are
 * skipped, with the reason. Blobs are opened only after `lstat` says they are regular files.
 *
 * @example
 * ```ts ignore
 * const files = workspaceAfter(log, key);
 * await restoreWorkspace("runs/x", files, await Deno.makeTempDir());
 * ```
 */
export async function restoreWorkspace(
  runDir: string,
  files: ReadonlyMap<string, string>,
  into: string,
): Promise<RestoredWorkspace> {
  const root = resolve(into);
  const skipped: string[] = [];
  let restored = 0, bytes = 0;
  const folders = new Set<string>();
  for (const [path, sha] of files) {
    const target = resolve(root, path);
    const rel = relative(root, target);
    if (rel === "" || rel.startsWith("..") || !SHA256.test(sha)) {
      skipped.push(`${path} (not a workspace path)`);
      continue;
    }
    const parents: string[] = [];
    for (let d = dirname(rel); d !== "." && !folders.has(d); d = dirname(d)) {
      parents.push(d);
    }
    if (
      restored + folders.size + parents.length + 1 > CHECK_WORKSPACE_ENTRIES
    ) {
      skipped.push(
        `${path} (over the ${CHECK_WORKSPACE_ENTRIES} entry budget)`,
      );
      continue;
    }
    const blob = join(runDir, "blobs", sha.slice(0, 2), sha);
    const info = await Deno.lstat(blob).catch(() => undefined);
    if (!info?.isFile) {
      skipped.push(`${path} (blob ${sha.slice(0, 12)}… is not in blobs/)`);
      continue;
    }
    if (bytes + info.size > CHECK_WORKSPACE_BYTES) {
      skipped.push(`${path} (over the byte budget)`);
      continue;
    }
    // `into` is a fresh folder only this function writes: nothing in it is a link to follow.
    try {
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.copyFile(blob, target);
    } catch (e) {
      skipped.push(
        `${path} (${e instanceof Error ? e.message : String(e)})`,
      );
      continue;
    }
    restored++;
    bytes += info.size;
    for (const d of parents) folders.add(d);
  }
  return { restored, bytes, skipped };
}
