import type { z } from "zod";

// JSON Lines as mappa writes them (events.jsonl, metrics.jsonl, the trainer's /v1/train reply): one JSON
// value a line, appended, so the text after the last newline may be a line still being written.

/**
 * One line of JSON Lines parsed by `schema`: zod's result, or undefined when the line is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { parseJsonLine } from "./json_lines.ts";
 * assert.equal(parseJsonLine(z.number(), "2")?.data, 2);
 * assert.equal(parseJsonLine(z.number(), "{")?.success, undefined);
 * ```
 */
export function parseJsonLine<S extends z.ZodType>(
  schema: S,
  line: string,
): z.ZodSafeParseResult<z.infer<S>> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return schema.safeParse(value);
}

/**
 * The complete, non-blank lines of a JSON Lines file, each with its 1-based line number; the text after
 * the last newline (empty, or a line still being written) is left out unless `keepUnterminated` (a reader
 * of files others wrote, where a last record may simply lack its newline). Null when there is no such file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonLines } from "./json_lines.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '1\n\n2\n{"partial');
 * assert.deepEqual(await readJsonLines(path), [[1, "1"], [3, "2"]]);
 * assert.equal(await readJsonLines(`${path}.missing`), null);
 * ```
 */
export async function readJsonLines(
  path: string,
  keepUnterminated = false,
): Promise<[number, string][] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const lines = text.split("\n");
  if (!keepUnterminated) lines.pop();
  return lines.flatMap((line, i): [number, string][] =>
    line.trim() === "" ? [] : [[i + 1, line]]
  );
}
