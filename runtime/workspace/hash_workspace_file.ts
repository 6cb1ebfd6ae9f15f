import { createHash } from "node:crypto";
import { type FileIdentity, openWorkspaceFile } from "./open_workspace_file.ts";

const CHUNK_BYTES = 1 << 20;

/** Files above this are listed without a hash (reference/sandbox.md §3.5). */
export const MAX_HASH_BYTES = 256 << 20;

/** A file whose apparent size exceeds what it holds on disk by more than this is sparse: never read through. */
export const SPARSE_SLACK_BYTES = 1 << 20;

/** Options for `hashWorkspaceFile`. */
export interface HashWorkspaceFileOptions {
  /** Refuse the file unless its inode and device are these (from the snapshot). */
  expected?: FileIdentity;
  /**
   * Files larger than this get `sha256: null`.
   * @default MAX_HASH_BYTES (256 MiB)
   */
  maxBytes?: number;
}

/** A file's sha256 (null when larger than the cap), or why it was not read. */
export type HashResult =
  | { readonly ok: true; readonly sha256: string | null; readonly size: number }
  | { readonly ok: false; readonly reason: string };

/**
 * The sha256 of a workspace file, read through `openWorkspaceFile` (no symlink followed, inode
 * checked against the snapshot).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashWorkspaceFile } from "./hash_workspace_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "");
 * const h = await hashWorkspaceFile(dir, "a.txt");
 * assert(h.ok && h.sha256?.startsWith("e3b0c442"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function hashWorkspaceFile(
  root: string,
  path: string,
  options: HashWorkspaceFileOptions = {},
): Promise<HashResult> {
  const maxBytes = options.maxBytes ?? MAX_HASH_BYTES;
  const opened = await openWorkspaceFile(
    root,
    path,
    options.expected === undefined ? {} : { expected: options.expected },
  );
  if (!opened.ok) return opened;
  const { handle, size, allocated } = opened;
  try {
    // A sparse file is not read through its holes: hashing 2 GB of zeros is host work the agent did not do.
    if (size > maxBytes || size - allocated > SPARSE_SLACK_BYTES) {
      return { ok: true, sha256: null, size };
    }
    const hash = createHash("sha256");
    // Sized to the file, not a fixed 1 MiB: allocating that per small file cost more than hashing it.
    let buf = new Uint8Array(Math.min(CHUNK_BYTES, size + 1));
    let read = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read > maxBytes) return { ok: true, sha256: null, size: read };
      hash.update(buf.subarray(0, bytesRead));
      if (bytesRead === buf.length && buf.length < CHUNK_BYTES) {
        buf = new Uint8Array(Math.min(CHUNK_BYTES, buf.length * 2)); // it grew since its fstat
      }
    }
    return { ok: true, sha256: hash.digest("hex"), size: read };
  } finally {
    await handle.close();
  }
}
