// Agreement and rank statistics for comparing score layers and judges (reference/judges-and-specs.md §6.3).
// A statistic that is undefined for its input (too few values, no variance) is null, never NaN, so results
// stay valid JSON. Means, spread, quantiles and correlations come from simple-statistics; Kendall's tau-b
// and the agreement coefficients (stats_agreement.ts) are not in it, so they are written here.

import * as ss from "simple-statistics";

/**
 * The arithmetic mean, or null for no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mean } from "./stats.ts";
 * assert.equal(mean([1, 2, 6]), 3);
 * assert.equal(mean([]), null);
 * ```
 */
export function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : ss.mean(xs as number[]);
}

/** A sample described without resampling: count, mean, spread and quartiles; null fields for no values. */
export interface Summary {
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null below two values. */
  readonly sd: number | null;
  /** Standard error of the mean, sd / √n; null below two values. */
  readonly sem: number | null;
  readonly min: number | null;
  /** Quartiles interpolated linearly between order statistics (type 7, the R and numpy default). */
  readonly q1: number | null;
  readonly median: number | null;
  readonly q3: number | null;
  readonly max: number | null;
}

/**
 * Summarises a sample: n, mean, sd, standard error, min, quartiles, max.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./stats.ts";
 * const s = summarize([1, 2, 3, 4, 5]);
 * assert.equal(s.median, 3);
 * assert.equal(s.q1, 2);
 * assert.equal(summarize([]).mean, null);
 * ```
 */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  if (n === 0) {
    return {
      n,
      mean: null,
      sd: null,
      sem: null,
      min: null,
      q1: null,
      median: null,
      q3: null,
      max: null,
    };
  }
  const sd = n < 2 ? null : ss.sampleStandardDeviation(xs as number[]);
  const sorted = [...xs].sort((a, b) => a - b);
  // simple-statistics' quantileSorted interpolates like R type 7 (checked against it in stats_test.ts).
  const q = (p: number) => ss.quantileSorted(sorted, p);
  return {
    n,
    mean: ss.mean(sorted),
    sd,
    sem: sd === null ? null : sd / Math.sqrt(n),
    min: sorted[0]!,
    q1: q(0.25),
    median: q(0.5),
    q3: q(0.75),
    max: sorted[n - 1]!,
  };
}

function checkPaired(x: readonly number[], y: readonly number[], what: string) {
  if (x.length !== y.length) {
    throw new RangeError(
      `Cannot compute ${what}: the samples differ in length (${x.length} and ${y.length})`,
    );
  }
}

function varies(xs: readonly number[]): boolean {
  return xs.some((x) => x !== xs[0]);
}

/**
 * Correlation `r` from simple-statistics of paired samples (`what` names it when they are not paired),
 * null where it is undefined (NaN there), clamped to [-1, 1] against rounding.
 */
function correlation(
  x: readonly number[],
  y: readonly number[],
  what: string,
  r: (x: number[], y: number[]) => number,
): number | null {
  checkPaired(x, y, what);
  if (x.length < 2 || !varies(x) || !varies(y)) return null;
  const v = r(x as number[], y as number[]);
  return Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : null;
}

/**
 * Pearson's product-moment correlation; null below two pairs or when either sample is constant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pearson } from "./stats.ts";
 * assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
 * assert.equal(pearson([1, 1, 1], [2, 4, 6]), null);
 * ```
 */
export function pearson(
  x: readonly number[],
  y: readonly number[],
): number | null {
  return correlation(x, y, "a correlation", ss.sampleCorrelation);
}

/**
 * Spearman's rank correlation: Pearson's r of the ranks, ties sharing their average rank (exact with
 * ties, where the 1 − 6Σd²/(n(n²−1)) shortcut is not). Null below two pairs or when either sample is constant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spearman } from "./stats.ts";
 * assert.equal(spearman([1, 2, 3], [1, 10, 100]), 1);
 * ```
 */
export function spearman(
  x: readonly number[],
  y: readonly number[],
): number | null {
  return correlation(x, y, "Spearman's rho", ss.sampleRankCorrelation);
}

/** Pairs tied within runs of equal values of `xs`, which must be sorted. */
function tiedPairs(xs: readonly number[]): number {
  let pairs = 0;
  for (let start = 0; start < xs.length;) {
    let end = start + 1;
    while (end < xs.length && xs[end] === xs[start]) end++;
    pairs += ((end - start) * (end - start - 1)) / 2;
    start = end;
  }
  return pairs;
}

/** Sorts `ys` in place by merge sort and returns the number of swaps (inversions) it took. */
function countInversions(ys: number[]): number {
  const buffer = new Array<number>(ys.length);
  let swaps = 0;
  for (let width = 1; width < ys.length; width *= 2) {
    for (let lo = 0; lo < ys.length; lo += 2 * width) {
      const mid = Math.min(lo + width, ys.length);
      const hi = Math.min(lo + 2 * width, ys.length);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (ys[j]! < ys[i]!) {
          swaps += mid - i;
          buffer[k++] = ys[j++]!;
        } else buffer[k++] = ys[i++]!;
      }
      while (i < mid) buffer[k++] = ys[i++]!;
      while (j < hi) buffer[k++] = ys[j++]!;
      for (let m = lo; m < hi; m++) ys[m] = buffer[m]!;
    }
  }
  return swaps;
}

/**
 * Kendall's tau-b, corrected for ties in either sample: (C − D) / √((n₀ − n₁)(n₀ − n₂)), computed in
 * O(n log n) by Knight's algorithm. Null below two pairs or when either sample is constant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kendallTauB } from "./stats.ts";
 * assert.equal(kendallTauB([1, 2, 3], [3, 2, 1]), -1);
 * ```
 */
export function kendallTauB(
  x: readonly number[],
  y: readonly number[],
): number | null {
  checkPaired(x, y, "Kendall's tau-b");
  const n = x.length;
  if (n < 2) return null;
  const order = x.map((_, i) => i).sort((a, b) =>
    x[a]! - x[b]! || y[a]! - y[b]!
  );
  const xs = order.map((i) => x[i]!);
  const ys = order.map((i) => y[i]!);
  const n0 = (n * (n - 1)) / 2;
  const n1 = tiedPairs(xs);
  // Pairs tied in both: runs of equal (x, y) in the sorted order.
  let n3 = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && xs[end] === xs[start] && ys[end] === ys[start]) end++;
    n3 += ((end - start) * (end - start - 1)) / 2;
    start = end;
  }
  // Within runs of equal x, y is already ascending, so every inversion left is a discordant pair.
  const discordant = countInversions(ys);
  const n2 = tiedPairs(ys);
  const concordantMinusDiscordant = n0 - n1 - n2 + n3 - 2 * discordant;
  const denominator = Math.sqrt((n0 - n1) * (n0 - n2));
  if (denominator === 0) return null;
  return Math.max(-1, Math.min(1, concordantMinusDiscordant / denominator));
}

export {
  cohenKappa,
  type KappaOptions,
  krippendorffAlpha,
} from "./stats_agreement.ts";
export type { AlphaLevel, Rating } from "./stats_agreement.ts";
