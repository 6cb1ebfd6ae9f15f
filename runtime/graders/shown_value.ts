/**
 * A grade's answer or expected value as a summary shows it: "(none)" for nothing, a string as it is,
 * anything else as JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shownValue } from "./shown_value.ts";
 * assert.equal(shownValue(null), "(none)");
 * assert.equal(shownValue("42"), "42");
 * assert.equal(shownValue([1, 2]), "[1,2]");
 * ```
 */
export function shownValue(value: unknown): string {
  return value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
    ? value
    : JSON.stringify(value);
}
