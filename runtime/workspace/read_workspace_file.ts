import { type FileIdentity, openWorkspaceFile } from "./open_workspace_file.ts";

/** Options for `readWorkspaceFile`. */
export interface ReadWorkspaceFileOptions {
  /** Most bytes read; a larger file is refused (agent output is untrusted). */
  maxBytes: number;
  /** Refuse the file unless its inode and device are these (from the snapshot). */
  expected?: FileIdentity;
}

/** A workspace file's bytes, or why they were not read. */
export type ReadResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads a regular workspace file through `openWorkspaceFile` (no symlink followed in any component,
 * no FIFO or device opened) and never more than `maxBytes` bytes: the size is checked on the opened
 * handle, and a file that grows past the cap while read is refused as well.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWorkspaceFile } from "./read_workspace_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, "{}");
 * const r = await readWorkspaceFile(dir, "a.json", { maxBytes: 10 });
 * assert(r.ok && new TextDecoder().decode(r.bytes) === "{}");
 * assert.equal((await readWorkspaceFile(dir, "a.json", { maxBytes: 1 })).ok, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readWorkspaceFile(
  root: string,
  path: string,
  options: ReadWorkspaceFileOptions,
): Promise<ReadResult> {
  const { maxBytes } = options;
  const opened = await openWorkspaceFile(
    root,
    path,
    options.expected === undefined ? {} : { expected: options.expected },
  );
  if (!opened.ok) return opened;
  const { handle, size } = opened;
  const tooLarge = {
    ok: false,
    reason: `larger than ${maxBytes} bytes`,
  } as const;
  try {
    if (size > maxBytes) return tooLarge;
    // One byte past the size seen: a file that grew meanwhile is noticed, and the read stays within the cap.
    const buf = new Uint8Array(Math.min(size, maxBytes) + 1);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await handle.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off > maxBytes) return tooLarge;
    if (off > size) return { ok: false, reason: "changed while read" };
    return { ok: true, bytes: buf.subarray(0, off) };
  } finally {
    await handle.close().catch(() => {});
  }
}
