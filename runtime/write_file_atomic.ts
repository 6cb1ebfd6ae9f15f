/**
 * Writes a file whole or not at all: into a temporary name beside it, then renamed over `path`, so a
 * reader (or a crash) never sees half of it. A string is written as UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomic } from "./write_file_atomic.ts";
 * const path = `${await Deno.makeTempDir()}/a.json`;
 * await writeFileAtomic(path, "{}\n");
 * assert.equal(await Deno.readTextFile(path), "{}\n");
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
