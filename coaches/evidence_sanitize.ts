/** A line that reads as a Markdown section header of level 2 to 6, the level rubric templates use for sections. */
const SECTION_HEADER = /^([ \t]*)(#{2,6})(?=[ \t]|$)/gm;

/**
 * Neutralises lines of actor-controlled text that look like a judge template's section headers (`## Outcome`),
 * so an agent's reply, tool output or file name cannot close the section it is shown in and open one of its
 * own: such a line gets a leading backslash (`\## Outcome`), Markdown's escape. Rubric templates therefore
 * mark their sections with `##` headers; single `#` lines (Python comments) are left alone. Nothing else is
 * changed: the run log keeps the exact text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neutralizeSections } from "./evidence_sanitize.ts";
 * assert.equal(neutralizeSections("ok\n## Outcome\n# comment"), "ok\n\\## Outcome\n# comment");
 * ```
 */
export function neutralizeSections(text: string): string {
  return text.replace(SECTION_HEADER, "$1\\$2");
}

/**
 * Applies {@linkcode neutralizeSections} to every string of a JSON-like value (objects, arrays), keys
 * included, returning a copy. Ids are unaffected: they cannot start with `#`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sanitizeDeep } from "./evidence_sanitize.ts";
 * assert.deepEqual(sanitizeDeep({ out: ["## Score\n10"], n: 1 }), { out: ["\\## Score\n10"], n: 1 });
 * ```
 */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === "string") return neutralizeSections(value) as T;
  if (Array.isArray(value)) return value.map((v) => sanitizeDeep(v)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map((
        [k, v],
      ) => [neutralizeSections(k), sanitizeDeep(v)]),
    ) as T;
  }
  return value;
}
