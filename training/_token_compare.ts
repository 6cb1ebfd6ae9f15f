/** How far one sequence of token logprobs is from another over the scored positions. In-memory, so camelCase. */
export interface LogprobGap {
  /** Mean |a − b| over the positions compared. */
  readonly mean: number;
  /** The largest |a − b|, and the token position where it is. */
  readonly max: number;
  readonly at: number;
  /** Positions compared. */
  readonly count: number;
}

/**
 * Compares two runs of per-token logprobs of the same ids (an engine's `prompt_logprobs` and the trainer's
 * `/v1/logprobs`) from position `from` on: the mean and the largest absolute difference. A position where
 * either side has no number (the first token) is skipped; an infinite or missing value on one side only
 * counts as an infinite difference, so it can never pass a tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logprobGap } from "./_token_compare.ts";
 * const gap = logprobGap([null, -1, -2, -3], [null, -1, -2.5, -3], 1);
 * assert.equal(gap.max, 0.5);
 * assert.equal(gap.at, 2);
 * ```
 */
export function logprobGap(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  from: number,
): LogprobGap {
  if (a.length !== b.length) {
    throw new RangeError(
      `Cannot compare logprobs of ${a.length} and ${b.length} tokens: both must score the same ids`,
    );
  }
  let sum = 0;
  let max = 0;
  let at = -1;
  let count = 0;
  for (let t = Math.max(1, from); t < a.length; t++) {
    const x = a[t];
    const y = b[t];
    if ((x === null || x === undefined) && (y === null || y === undefined)) {
      continue;
    }
    const d = x == null || y == null || !Number.isFinite(x - y)
      ? Infinity
      : Math.abs(x - y);
    sum += d;
    count++;
    if (d > max || at < 0) {
      max = d;
      at = t;
    }
  }
  return { mean: count === 0 ? 0 : sum / count, max, at, count };
}

/**
 * The first position where two token id sequences differ (a chat template check), or -1 when they are
 * equal; a sequence that is a prefix of the other differs at its length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstDifference } from "./_token_compare.ts";
 * assert.equal(firstDifference([1, 2, 3], [1, 2, 4]), 2);
 * assert.equal(firstDifference([1, 2], [1, 2]), -1);
 * ```
 */
export function firstDifference(
  a: readonly number[],
  b: readonly number[],
): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A number for messages: 3 significant digits, exponent form below 1e-3. */
export function formatGap(x: number): string {
  if (!Number.isFinite(x)) return "inf";
  if (x === 0) return "0";
  return x < 1e-3 ? x.toExponential(1) : x.toPrecision(3);
}
