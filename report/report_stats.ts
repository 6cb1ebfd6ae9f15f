import * as ss from "simple-statistics";
import { pearson } from "./stats.ts";

// How well a score separates successful from failed episodes (the report's "scores against outcomes").

/**
 * Probability that a random success scores above a random failure, ties counting half (the ROC AUC,
 * Mann–Whitney U / n₁n₀): 0.5 means the score says nothing about the outcome. Null without both groups.
 *
 * @example
 * ```ts
 * import { auc } from "./report_stats.ts";
 * if (auc([8, 9], [2, 9]) !== 0.625) throw new Error("wrong AUC");
 * ```
 */
export function auc(
  successes: readonly number[],
  failures: readonly number[],
): number | null {
  const n1 = successes.length, n0 = failures.length;
  if (n1 === 0 || n0 === 0) return null;
  // U = W − n₁(n₁ + 1)/2, with W the rank sum of the successes (ties at their average rank).
  const w = ss.wilcoxonRankSum(successes as number[], failures as number[]);
  return (w - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/**
 * Point-biserial correlation of a score with a binary outcome (Pearson's r against 0/1).
 *
 * @example
 * ```ts
 * import { pointBiserial } from "./report_stats.ts";
 * if (pointBiserial([8, 9], [2, 3]) !== pointBiserial([9, 8], [3, 2])) throw new Error("order matters");
 * ```
 */
export function pointBiserial(
  successes: readonly number[],
  failures: readonly number[],
): number | null {
  return pearson(
    [...successes, ...failures],
    [...successes.map(() => 1), ...failures.map(() => 0)],
  );
}
