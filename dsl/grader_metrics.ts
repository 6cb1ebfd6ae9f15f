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
  // The judge's score on the rubric's scale, and the same mapped onto 0 to 1.
  llm_judge: ["score", "normalized_score"],
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
  llm_judge: ["normalized_score"],
};

/** The value a comparable metric takes for a failed episode when the spec's `fair` does not name it. */
export const COMPARABLE_FAIR_DEFAULT = 0;

/** A `<role>.<output>` the outcome grader reads, with its name (named answers) and its path in the spec. */
export interface AnswerUse {
  /** The answer's name, or null for a single `answer: <role>.<output>`. */
  readonly name: string | null;
  readonly ref: string;
  readonly path: (string | number)[];
}

/** The answers an outcome's grader reads: none, one, or several named ones. */
export function answerUses(outcome: Outcome | undefined): AnswerUse[] {
  if (!outcome || !("answer" in outcome.params)) return [];
  const answer = outcome.params.answer;
  return typeof answer === "string"
    ? [{ name: null, ref: answer, path: ["outcome", "params", "answer"] }]
    : Object.entries(answer).map(([name, ref]) => ({
      name,
      ref,
      path: ["outcome", "params", "answer", name],
    }));
}

/** One condition of an outcome's success rule, with its path in the spec. */
export interface SuccessConditionUse {
  readonly metric: string;
  readonly at_least?: number | undefined;
  readonly at_most?: number | undefined;
  readonly path: (string | number)[];
}

/** The conditions of an outcome's success rule: one, or those under `all`, `any` or `of`. */
export function successConditions(
  outcome: Outcome | undefined,
): SuccessConditionUse[] {
  const s = outcome?.success;
  if (!s) return [];
  const base = ["outcome", "success"];
  if ("metric" in s) return [{ ...s, path: base }];
  const [key, list] = "all" in s
    ? ["all", s.all]
    : "any" in s
    ? ["any", s.any]
    : ["of", s.of];
  return list.map((c, i) => ({ ...c, path: [...base, key, i] }));
}

/** The metrics an outcome reports: its grader's, and one per named answer of an answer grader. */
export function outcomeMetrics(outcome: Outcome | undefined): string[] {
  if (!outcome) return [];
  // A judge scores its named answers together: the names label them in its prompt, they are not metrics.
  const named = outcome.grader === "llm_judge" ? [] : answerUses(outcome);
  return [
    ...GRADER_METRICS[outcome.grader],
    ...named.flatMap((a) => a.name === null ? [] : [a.name]),
  ];
}
