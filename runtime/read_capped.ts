/**
 * Reads an HTTP reply's body as it arrives, at most `maxBytes` of it: a reply that never ends, or is
 * larger than its budget, is cut off at the budget instead of filling memory (DESIGN.md decision 12).
 * Resolves with the bytes, or with undefined once the body passes `maxBytes` (the body is cancelled).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCapped } from "./read_capped.ts";
 * assert.deepEqual(await readCapped(new Response("abc"), 8), new TextEncoder().encode("abc"));
 * assert.equal(await readCapped(new Response("abcdefghij"), 8), undefined);
 * ```
 */
export async function readCapped(
  res: Response,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > maxBytes) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
