import { didYouMean } from "../_levenshtein.ts";
import { outcomeMetrics, successConditions } from "../grader_metrics.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * `outcome.success.metric`, the keys of `outcome.fair` and every rubric cap's `metric` name a metric the
 * outcome grader reports; a cap without an outcome grader could never apply. See README.md#outcome.
 */
export function knownMetrics(ctx: RuleContext): void {
  const outcome = ctx.spec.outcome;
  const metrics = outcomeMetrics(outcome);
  const check = (
    name: string,
    path: (string | number)[],
    where: string,
    onKey = false,
  ) => {
    if (metrics.includes(name)) return;
    ctx.report({
      code: "unknown_metric",
      path,
      onKey,
      message: outcome
        ? `Cannot resolve metric "${name}" in ${where}: grader "${outcome.grader}" does not report it`
        : `Cannot resolve metric "${name}" in ${where}: the spec has no outcome grader`,
      hint: outcome
        ? didYouMean(name, metrics, "metric") ??
          `grader "${outcome.grader}" reports ${
            metrics.map((m) => `"${m}"`).join(", ")
          }`
        : "declare an outcome grader, or remove the cap",
    });
  };
  for (const c of successConditions(outcome)) {
    check(c.metric, [...c.path, "metric"], "outcome.success");
  }
  for (const key of Object.keys(outcome?.fair ?? {})) {
    check(key, ["outcome", "fair", key], "outcome.fair", true);
  }
  for (const use of ctx.rubricUses) {
    use.rubric.caps.forEach((cap, i) =>
      check(
        cap.metric,
        [...use.path, "caps", i, "metric"],
        `cap "${cap.id}" of rubric "${use.rubric.name}"`,
      )
    );
  }
}
