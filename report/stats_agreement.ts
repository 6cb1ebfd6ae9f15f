// Chance-corrected agreement between raters: Cohen's kappa (two raters) and Krippendorff's alpha (any
// number of raters, missing values). Exported through stats.ts.

/** One rater's label for one unit: a score, or a category name for nominal data. */
export type Rating = number | string;

/** Options of `cohenKappa`. */
export interface KappaOptions {
  /**
   * Disagreement weights: `none` counts any difference fully; `linear` and `quadratic` weigh it by the
   * distance |a − b| or (a − b)² between the scores (numbers only), as for 0–10 process scores.
   * @default "none"
   */
  readonly weights?: "none" | "linear" | "quadratic";
}

/**
 * Cohen's kappa for two raters over the same items: κ = 1 − Σ wᵢⱼ oᵢⱼ / Σ wᵢⱼ eᵢⱼ, where o is the
 * observed table, e the table expected from the raters' marginals, and w the disagreement weight (1 for
 * any difference unweighted). Null for no items or when chance agreement is certain (one category).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cohenKappa } from "./stats.ts";
 * assert.equal(cohenKappa(["y", "n", "y", "n"], ["y", "n", "y", "n"]), 1);
 * assert.equal(cohenKappa([0, 5, 10, 10], [0, 5, 5, 10], { weights: "quadratic" }), 0.8);
 * ```
 */
export function cohenKappa(
  a: readonly Rating[],
  b: readonly Rating[],
  options: KappaOptions = {},
): number | null {
  const weights = options.weights ?? "none";
  if (a.length !== b.length) {
    throw new RangeError(
      `Cannot compute Cohen's kappa: the raters labelled different numbers of items (${a.length} and ${b.length})`,
    );
  }
  if (weights !== "none") {
    const text = [...a, ...b].find((r) => typeof r !== "number");
    if (text !== undefined) {
      throw new TypeError(
        `Cannot weigh disagreement "${weights}": rating "${text}" is not a number`,
      );
    }
  }
  const n = a.length;
  if (n === 0) return null;
  const distance = (x: Rating, y: Rating): number => {
    if (x === y) return 0;
    if (weights === "none") return 1;
    const d = Math.abs((x as number) - (y as number));
    return weights === "linear" ? d : d * d;
  };
  const countsA = new Map<Rating, number>();
  const countsB = new Map<Rating, number>();
  let observed = 0;
  for (let i = 0; i < n; i++) {
    countsA.set(a[i]!, (countsA.get(a[i]!) ?? 0) + 1);
    countsB.set(b[i]!, (countsB.get(b[i]!) ?? 0) + 1);
    observed += distance(a[i]!, b[i]!);
  }
  let expected = 0;
  for (const [x, nx] of countsA) {
    for (const [y, ny] of countsB) expected += (nx * ny * distance(x, y)) / n;
  }
  if (expected === 0) return null;
  return 1 - observed / expected;
}

/** Krippendorff's alpha's metric: how far apart two values are. */
export type AlphaLevel = "nominal" | "ordinal" | "interval";

type Metric = (c: number, k: number) => number;

function ordinalMetric(
  values: readonly number[],
  totals: ReadonlyMap<number, number>,
): Metric {
  // δ²(c, k) = (Σ_{g from c to k} n_g − (n_c + n_k) / 2)², over the sorted values (Krippendorff 2011, p. 6).
  const cumulative = new Map<number, number>();
  let running = 0;
  for (const v of values) {
    running += totals.get(v)!;
    cumulative.set(v, running);
  }
  return (c, k) => {
    const [lo, hi] = c < k ? [c, k] : [k, c];
    const between = cumulative.get(hi)! - cumulative.get(lo)! + totals.get(lo)!;
    return (between - (totals.get(lo)! + totals.get(hi)!) / 2) ** 2;
  };
}

/**
 * Krippendorff's alpha, α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, from the coincidence matrix of
 * the pairable values (units with at least two values; missing values are null or undefined). `data` is
 * the reliability matrix: one row per rater, one column per unit. Null when no unit is pairable or every
 * pairable value is the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { krippendorffAlpha } from "./stats.ts";
 * const alpha = krippendorffAlpha([[1, 2, 3, null], [1, 3, 3, 4]], "interval")!;
 * assert.equal(alpha.toFixed(4), "0.8276");
 * ```
 */
export function krippendorffAlpha(
  data: readonly (readonly (number | null | undefined)[])[],
  level: AlphaLevel,
): number | null {
  const units = Math.max(0, ...data.map((row) => row.length));
  // Coincidences o_ck as a sparse map keyed by "c\tk": each ordered pair within a unit adds 1 / (m_u − 1).
  const coincidences = new Map<string, { c: number; k: number; o: number }>();
  const totals = new Map<number, number>();
  for (let u = 0; u < units; u++) {
    const values: number[] = [];
    for (const row of data) {
      const v = row[u];
      if (v === null || v === undefined) continue;
      if (!Number.isFinite(v)) {
        throw new RangeError(
          `Cannot compute Krippendorff's alpha: unit ${u} holds "${v}", not a finite number`,
        );
      }
      values.push(v);
    }
    const m = values.length;
    if (m < 2) continue;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i === j) continue;
        const [c, k] = [values[i]!, values[j]!];
        const id = `${c}\t${k}`;
        const cell = coincidences.get(id) ?? { c, k, o: 0 };
        cell.o += 1 / (m - 1);
        coincidences.set(id, cell);
        totals.set(c, (totals.get(c) ?? 0) + 1 / (m - 1));
      }
    }
  }
  const values = [...totals.keys()].sort((x, y) => x - y);
  let n = 0;
  for (const t of totals.values()) n += t;
  if (values.length === 0) return null;
  const delta: Metric = level === "nominal"
    ? (c, k) => (c === k ? 0 : 1)
    : level === "interval"
    ? (c, k) => (c - k) ** 2
    : ordinalMetric(values, totals);
  let disagreementObserved = 0;
  for (const { c, k, o } of coincidences.values()) {
    disagreementObserved += o * delta(c, k);
  }
  let disagreementExpected = 0;
  for (const c of values) {
    for (const k of values) {
      disagreementExpected += totals.get(c)! * totals.get(k)! * delta(c, k);
    }
  }
  if (disagreementExpected === 0) return null;
  return 1 - ((n - 1) * disagreementObserved) / disagreementExpected;
}
