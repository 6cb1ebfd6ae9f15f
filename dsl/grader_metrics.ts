import type { Outcome } from "./schema.ts";

/** The classification metrics `tabular_metric` can score a task by. */
export const CLASSIFICATION_METRICS: readonly string[] = [
  "accuracy",
  "balanced_accuracy",
  "f1",
  "f1_macro",
  "roc_auc",
  "log_loss",
];

/** The regression metrics `tabular_metric` can score a task by. */
export const REGRESSION_METRICS: readonly string[] = [
  "rmse",
  "rmsle",
  "mae",
  "medae",
  "r2",
  "rmse_pct_of_range",
  "rmse_pct_of_iqr",
  "mae_pct_of_range",
];

/**
 * The metrics each outcome grader reports: what `success.metric`, `fair` and rubric caps may name.
 * The graders themselves live in the runtime; this is their contract with the spec.
 */
export const GRADER_METRICS: Readonly<
  Record<Outcome["grader"], readonly string[]>
> = {
  math_equivalence: ["correct"],
  exact_match: ["correct"],
  regex: ["correct"],
  tabular_metric: [
    "valid_submission",
    "score",
    ...CLASSIFICATION_METRICS,
    ...REGRESSION_METRICS,
  ],
};
