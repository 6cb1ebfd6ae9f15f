/**
 * Pure metric functions for the tabular grader, matching scikit-learn's definitions (checked against
 * scikit-learn in `tabular_metric_test.ts`). Labels are strings; binary targets are booleans (true =
 * the positive class); every function takes the true values first and needs equal, non-empty inputs.
 * @module
 */
import * as ss from "simple-statistics";

function checkLengths(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length === 0 || a.length !== b.length) {
    throw new RangeError(
      `Cannot compute a metric on ${a.length} true and ${b.length} predicted values: need equal, non-empty inputs`,
    );
  }
}

/** The mean of a non-empty list (inputs are checked non-empty before any metric). */
function mean(xs: readonly number[]): number {
  return ss.mean(xs as number[]);
}

/**
 * The q-quantile with linear interpolation between order statistics (numpy's default).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantile } from "./tabular_metrics.ts";
 * assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) {
    throw new RangeError("Cannot compute a quantile of no values");
  }
  // simple-statistics interpolates between order statistics like numpy's default (R type 7).
  return ss.quantile(values as number[], q);
}

/**
 * The fraction of predictions equal to the true label.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracy } from "./tabular_metrics.ts";
 * assert.equal(accuracy(["a", "b", "b", "c"], ["a", "b", "c", "c"]), 0.75);
 * ```
 */
export function accuracy(
  yTrue: readonly string[],
  yPred: readonly string[],
): number {
  checkLengths(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/**
 * The mean recall over the classes present in `yTrue` (predicted classes absent from it are ignored).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { balancedAccuracy } from "./tabular_metrics.ts";
 * assert.equal(balancedAccuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"]), 0.5);
 * ```
 */
export function balancedAccuracy(
  yTrue: readonly string[],
  yPred: readonly string[],
): number {
  checkLengths(yTrue, yPred);
  const total = new Map<string, number>();
  const hit = new Map<string, number>();
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    total.set(t, (total.get(t) ?? 0) + 1);
    if (t === yPred[i]) hit.set(t, (hit.get(t) ?? 0) + 1);
  }
  return mean([...total].map(([c, n]) => (hit.get(c) ?? 0) / n));
}

function f1For(
  yTrue: readonly string[],
  yPred: readonly string[],
  label: string,
): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === label, p = yPred[i] === label;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * F1 of the positive label (0 when it has no true positive, as scikit-learn's `zero_division=0`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f1 } from "./tabular_metrics.ts";
 * assert.equal(f1(["1", "1", "0", "0"], ["1", "0", "1", "0"], "1"), 0.5);
 * ```
 */
export function f1(
  yTrue: readonly string[],
  yPred: readonly string[],
  positive: string,
): number {
  checkLengths(yTrue, yPred);
  return f1For(yTrue, yPred, positive);
}

/**
 * The unweighted mean F1 over every label in `yTrue` or `yPred` (scikit-learn's `average="macro"`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f1Macro } from "./tabular_metrics.ts";
 * assert.equal(f1Macro(["a", "b"], ["a", "c"]), 1 / 3);
 * ```
 */
export function f1Macro(
  yTrue: readonly string[],
  yPred: readonly string[],
): number {
  checkLengths(yTrue, yPred);
  const labels = [...new Set([...yTrue, ...yPred])];
  return mean(labels.map((l) => f1For(yTrue, yPred, l)));
}

/**
 * Binary ROC-AUC from scores: the Mann-Whitney U statistic with tied scores given their average rank.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rocAuc } from "./tabular_metrics.ts";
 * assert.equal(rocAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 0.75);
 * ```
 */
export function rocAuc(
  yTrue: readonly boolean[],
  scores: readonly number[],
): number {
  checkLengths(yTrue, scores);
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) =>
    a[0] - b[0]
  );
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let nPos = 0, rankSum = 0;
  yTrue.forEach((t, i) => {
    if (t) (nPos++, rankSum += ranks[i]!);
  });
  const nNeg = yTrue.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new RangeError(
      "Cannot compute ROC-AUC: the true values hold only one class",
    );
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Binary log loss of positive-class probabilities, clipped to [1e-15, 1 - 1e-15].
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logLoss } from "./tabular_metrics.ts";
 * assert.equal(logLoss([true, false], [0.5, 0.5]), Math.LN2);
 * ```
 */
export function logLoss(
  yTrue: readonly boolean[],
  probabilities: readonly number[],
): number {
  checkLengths(yTrue, probabilities);
  const eps = 1e-15;
  let s = 0;
  yTrue.forEach((t, i) => {
    const p = Math.min(Math.max(probabilities[i]!, eps), 1 - eps);
    s -= Math.log(t ? p : 1 - p);
  });
  return s / yTrue.length;
}

/**
 * Root mean squared error.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmse } from "./tabular_metrics.ts";
 * assert.equal(rmse([0, 0], [3, 4]), Math.sqrt(12.5));
 * ```
 */
export function rmse(
  yTrue: readonly number[],
  yPred: readonly number[],
): number {
  checkLengths(yTrue, yPred);
  return Math.sqrt(mean(yTrue.map((t, i) => (t - yPred[i]!) ** 2)));
}

/**
 * Root mean squared logarithmic error; refuses negative values (RangeError).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmsle } from "./tabular_metrics.ts";
 * assert.equal(rmsle([0, Math.E - 1], [0, Math.E - 1]), 0);
 * ```
 */
export function rmsle(
  yTrue: readonly number[],
  yPred: readonly number[],
): number {
  checkLengths(yTrue, yPred);
  if ([...yTrue, ...yPred].some((v) => v < 0)) {
    throw new RangeError(
      "Cannot compute RMSLE: true or predicted values are negative",
    );
  }
  return rmse(yTrue.map(Math.log1p), yPred.map(Math.log1p));
}

/**
 * Mean absolute error.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mae } from "./tabular_metrics.ts";
 * assert.equal(mae([1, 2], [2, 4]), 1.5);
 * ```
 */
export function mae(
  yTrue: readonly number[],
  yPred: readonly number[],
): number {
  checkLengths(yTrue, yPred);
  return mean(yTrue.map((t, i) => Math.abs(t - yPred[i]!)));
}

/**
 * Median absolute error.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { medae } from "./tabular_metrics.ts";
 * assert.equal(medae([1, 2, 3], [1, 4, 6]), 2);
 * ```
 */
export function medae(
  yTrue: readonly number[],
  yPred: readonly number[],
): number {
  checkLengths(yTrue, yPred);
  return quantile(yTrue.map((t, i) => Math.abs(t - yPred[i]!)), 0.5);
}

/**
 * Coefficient of determination; a constant target gives 1 for a perfect fit, else 0 (scikit-learn's `force_finite`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { r2 } from "./tabular_metrics.ts";
 * assert.equal(r2([1, 2, 3], [1, 2, 3]), 1);
 * ```
 */
export function r2(yTrue: readonly number[], yPred: readonly number[]): number {
  checkLengths(yTrue, yPred);
  const m = mean(yTrue);
  let res = 0, tot = 0;
  yTrue.forEach((t, i) => {
    res += (t - yPred[i]!) ** 2;
    tot += (t - m) ** 2;
  });
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

/** Summary statistics of a regression target, for putting errors in context. */
export interface TargetStats {
  readonly min: number;
  readonly max: number;
  readonly range: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly iqr: number;
  readonly mean: number;
  readonly std: number;
}

/**
 * Range, quartiles (linear interpolation), mean and population standard deviation of a target.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetStats } from "./tabular_metrics.ts";
 * assert.equal(targetStats([0, 10, 20]).range, 20);
 * ```
 */
export function targetStats(values: readonly number[]): TargetStats {
  const m = mean(values);
  const q1 = quantile(values, 0.25), q3 = quantile(values, 0.75);
  const min = Math.min(...values), max = Math.max(...values);
  return {
    min,
    max,
    range: max - min,
    q1,
    median: quantile(values, 0.5),
    q3,
    iqr: q3 - q1,
    mean: m,
    std: Math.sqrt(mean(values.map((v) => (v - m) ** 2))),
  };
}

/**
 * An error as a percentage of a spread (`100 * error / spread`); null when the spread is 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pctOf } from "./tabular_metrics.ts";
 * assert.equal(pctOf(5, 20), 25);
 * assert.equal(pctOf(5, 0), null);
 * ```
 */
export function pctOf(error: number, spread: number): number | null {
  return spread > 0 ? (100 * error) / spread : null;
}
