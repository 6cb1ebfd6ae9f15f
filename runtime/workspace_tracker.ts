import type { FileHandle } from "node:fs/promises";
import type { WorkspaceTracker } from "./episode_context.ts";
import type { FileChange } from "./events.ts";
import type { RunStore } from "./run_store.ts";
import { SlotPool } from "./_slot_pool.ts";
import { collectChanges } from "./workspace/collect_changes.ts";
import { openWorkspaceFile } from "./workspace/open_workspace_file.ts";
import { SPARSE_SLACK_BYTES } from "./workspace/hash_workspace_file.ts";
import { type SeedFile, seedWorkspace } from "./workspace/seed_workspace.ts";
import { snapshot, type WorkspaceSnapshot } from "./workspace/snapshot.ts";

/** A workspace tracker that can also list the final files of the episode with their blob hashes. */
export interface EpisodeWorkspace extends WorkspaceTracker {
  /** Regular files now in the workspace: path -> sha256 of the copy in the run's blobs. */
  final(): Promise<Record<string, string>>;
  /** The files the workspace was seeded with: path -> sha256. */
  readonly seeded: Readonly<Record<string, string>>;
  /**
   * Runs `fn` while holding the workspace, as `track` does, without a snapshot: no execution runs
   * meanwhile, so host reads (contract checks) see the files the last snapshot recorded.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

// Files up to this size are copied into blobs/ from memory: a stream per small file cost more than the copy.
const SMALL_FILE_BYTES = 1 << 20;

/** The whole file read from offset 0, or undefined when it holds more than `size` bytes (it is growing). */
async function readSmall(
  handle: FileHandle,
  size: number,
): Promise<Uint8Array | undefined> {
  const buf = new Uint8Array(size + 1);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await handle.read(buf, off, buf.length - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off <= size ? buf.subarray(0, off) : undefined;
}

/** The first `size` bytes of a file (its size on the opened handle): a file that grows is not read past it. */
function boundedStream(
  handle: FileHandle,
  size: number,
): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const want = Math.min(SMALL_FILE_BYTES, size - off);
      if (want <= 0) return controller.close();
      const buf = new Uint8Array(want);
      const { bytesRead } = await handle.read(buf, 0, want, off);
      if (bytesRead === 0) return controller.close();
      off += bytesRead;
      controller.enqueue(buf.subarray(0, bytesRead));
    },
  });
}

/**
 * Largest file copied into blobs/: past it the file is recorded as such (its size), never copied. The
 * tools' default disk quota (1 GiB) bounds what a jail can really write.
 */
export const BLOB_FILE_CAP = 1 << 30;

async function storeFile(
  dir: string,
  path: string,
  store: RunStore,
  snap: WorkspaceSnapshot,
): Promise<string | { notStored: string } | null> {
  const entry = snap.entries.get(path);
  const opened = await openWorkspaceFile(
    dir,
    path,
    entry ? { expected: { ino: entry.ino, dev: entry.dev } } : {},
  );
  if (!opened.ok) return null;
  try {
    // Blobs hold what was really written: 16 KiB of data in a 2 GB sparse file is not stored as 2 GB.
    if (opened.size - opened.allocated > SPARSE_SLACK_BYTES) {
      return {
        notStored:
          `sparse: ${opened.size} bytes apparent, ${opened.allocated} allocated`,
      };
    }
    if (opened.size > BLOB_FILE_CAP) {
      return {
        notStored:
          `${opened.size} bytes, past the ${BLOB_FILE_CAP}-byte blob cap`,
      };
    }
    if (opened.size <= SMALL_FILE_BYTES) {
      const bytes = await readSmall(opened.handle, opened.size);
      if (bytes !== undefined) return await store.putBlob(bytes);
    }
    return await store.putStream(boundedStream(opened.handle, opened.size));
  } finally {
    await opened.handle.close().catch(() => {});
  }
}

// Agent code can create many files; past this a snapshot is cut short (and says so).
const MAX_ENTRIES = 100_000;

function regularFiles(snap: WorkspaceSnapshot): string[] {
  return [...snap.entries.values()].filter((e) => e.kind === "file").map((e) =>
    e.path
  ).sort();
}

/**
 * Creates an episode's workspace seeded with the task's input files, and tracks it: one execution at a
 * time (so each diff belongs to one execution), lstat snapshots before and after, special files removed,
 * and every created or modified file copied into the run's content-addressed blobs.
 */
export async function createWorkspace(
  dir: string,
  files: readonly SeedFile[],
  store: RunStore,
): Promise<EpisodeWorkspace> {
  await seedWorkspace(dir, files);
  let current = await snapshot(dir, { maxEntries: MAX_ENTRIES, sweep: true });
  const hashes = new Map<string, string>();
  for (const path of regularFiles(current)) {
    const sha = await storeFile(dir, path, store, current);
    if (typeof sha === "string") hashes.set(path, sha);
  }
  const lock = new SlotPool(1);
  const seeded = Object.fromEntries(hashes);
  return {
    seeded,
    files: () => Promise.resolve(regularFiles(current)),
    exclusive: <T>(fn: () => Promise<T>) => lock.use(fn),
    track: <T>(fn: () => Promise<T>) =>
      lock.use(async () => {
        const before = current;
        const result = await fn();
        const collected = await collectChanges(dir, before, {
          maxEntries: MAX_ENTRIES,
        });
        current = collected.snapshot;
        const changes: FileChange[] = [];
        for (const c of collected.changes) {
          let notStored: string | undefined;
          if (c.change === "deleted") hashes.delete(c.path);
          else if (c.kind === "file" && c.rejected === undefined) {
            // Content already stored (the diff hashed it): the event's sha256 and the blob agree.
            const sha = c.sha256 !== undefined && await store.hasBlob(c.sha256)
              ? c.sha256
              : await storeFile(dir, c.path, store, current);
            if (typeof sha === "string") hashes.set(c.path, sha);
            else {
              hashes.delete(c.path);
              if (sha !== null) notStored = sha.notStored;
            }
          }
          changes.push({
            path: c.path,
            change: c.change,
            kind: c.kind,
            ...(c.size !== undefined ? { size: c.size } : {}),
            ...(c.sha256 !== undefined ? { sha256: c.sha256 } : {}),
            ...(c.rejected !== undefined ? { rejected: c.rejected } : {}),
            ...(notStored !== undefined ? { not_stored: notStored } : {}),
          });
        }
        return { result, changes };
      }),
    final: () => {
      const out: Record<string, string> = {};
      for (const path of regularFiles(current)) {
        const sha = hashes.get(path);
        if (sha !== undefined) out[path] = sha;
      }
      return Promise.resolve(out);
    },
  };
}
