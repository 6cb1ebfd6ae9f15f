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
  if (successes.length === 0 || failures.length === 0) return null;
  let wins = 0;
  for (const s of successes) {
    for (const f of failures) wins += s > f ? 1 : s === f ? 0.5 : 0;
  }
  return wins / (successes.length * failures.length);
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
