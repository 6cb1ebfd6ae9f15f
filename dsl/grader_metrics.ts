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

/**
 * The metrics of each grader that are on one scale across tasks (0 to 1, higher is better), so a mean
 * over tasks of different kinds means something: the run summary's per-category means use only these
 * (an rmse averaged with an rmsle would not). Their value for an episode that failed before grading is
 * the spec's `fair` value, else {@linkcode COMPARABLE_FAIR_DEFAULT}.
 */
export const COMPARABLE_METRICS: Readonly<
  Record<Outcome["grader"], readonly string[]>
> = {
  math_equivalence: ["correct"],
  exact_match: ["correct"],
  regex: ["correct"],
  tabular_metric: ["score", "valid_submission"],
};

/** The value a comparable metric takes for a failed episode when the spec's `fair` does not name it. */
export const COMPARABLE_FAIR_DEFAULT = 0;
