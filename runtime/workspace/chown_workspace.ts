import { lchown } from "node:fs/promises";
import { join } from "node:path";
import { snapshot, type SnapshotOptions } from "./snapshot.ts";

/** The owner a workspace is handed to before an execution. */
export interface WorkspaceOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Hands every entry of a workspace, the root included, to `owner` with lchown (a symlink is never
 * followed), skipping entries it already owns. Needs root; the bwrap sandbox calls it before each
 * execution so the slot's unprivileged uid can write the workspace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chownWorkspace } from "./chown_workspace.ts";
 * const dir = await Deno.makeTempDir();
 * await chownWorkspace(dir, { uid: Deno.uid()!, gid: Deno.gid()! });
 * assert.equal((await Deno.lstat(dir)).uid, Deno.uid());
 * await Deno.remove(dir);
 * ```
 */
export async function chownWorkspace(
  dir: string,
  owner: WorkspaceOwner,
  options: SnapshotOptions = {},
): Promise<void> {
  // The tracker keeps workspaces within 100,000 entries: as many are handed over.
  const snap = await snapshot(dir, { maxEntries: 100_000, ...options });
  const root = await Deno.lstat(dir);
  if (root.uid !== owner.uid || root.gid !== owner.gid) {
    await lchown(dir, owner.uid, owner.gid);
  }
  for (const entry of snap.entries.values()) {
    if (entry.uid === owner.uid && entry.gid === owner.gid) continue;
    await lchown(join(dir, entry.path), owner.uid, owner.gid);
  }
}
