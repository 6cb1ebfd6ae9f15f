import type { Outcome, SingleOutcome } from "./schema.ts";

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
  // Declared by the spec (`params.metrics`; `<id>.<metric>` for composites): see outcomeMetrics().
  command: [],
  function: [],
  composite: [],
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
  // Declared by the spec (`comparable: true`): see comparableMetrics().
  command: [],
  function: [],
  composite: [],
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

/**
 * The answers an outcome's grader reads: none, one, or several named ones; for a composite, its
 * components' (with their paths under `params.graders.<id>`).
 */
export function answerUses(
  outcome: Outcome | SingleOutcome | undefined,
  base: (string | number)[] = ["outcome"],
): AnswerUse[] {
  if (!outcome) return [];
  if (outcome.grader === "composite") {
    return Object.entries(outcome.params.graders).flatMap(([id, g]) =>
      answerUses(g, [...base, "params", "graders", id])
    );
  }
  if (!("answer" in outcome.params)) return [];
  const answer = outcome.params.answer;
  if (answer === undefined) return [];
  return typeof answer === "string"
    ? [{ name: null, ref: answer, path: [...base, "params", "answer"] }]
    : Object.entries(answer).map(([name, ref]) => ({
      name,
      ref,
      path: [...base, "params", "answer", name],
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

/**
 * The metrics an outcome reports: its grader's, and one per named answer of an answer grader; a command
 * or function grader's declared ones; `<id>.<metric>` for each component of a composite.
 */
export function outcomeMetrics(
  outcome: Outcome | SingleOutcome | undefined,
): string[] {
  if (!outcome) return [];
  if (outcome.grader === "composite") {
    return Object.entries(outcome.params.graders).flatMap(([id, g]) =>
      outcomeMetrics(g).map((m) => `${id}.${m}`)
    );
  }
  if (outcome.grader === "command" || outcome.grader === "function") {
    return Object.keys(outcome.params.metrics);
  }
  // A judge scores its named answers together: the names label them in its prompt, they are not metrics.
  const named = outcome.grader === "llm_judge" ? [] : answerUses(outcome);
  return [
    ...GRADER_METRICS[outcome.grader],
    ...named.flatMap((a) => a.name === null ? [] : [a.name]),
  ];
}

/**
 * The metrics of an outcome that are on one scale across tasks, which run-summary means average:
 * {@linkcode COMPARABLE_METRICS} of its grader, a command or function grader's `comparable: true`
 * metrics, and `<id>.<metric>` for those of a composite's components.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparableMetrics } from "./grader_metrics.ts";
 * import { OutcomeSchema } from "./schema.ts";
 * const outcome = OutcomeSchema.parse({
 *   grader: "command",
 *   params: { code: "…", metrics: { pass_rate: { min: 0, max: 1, comparable: true }, n: {} } },
 * });
 * assert.deepEqual(comparableMetrics(outcome), ["pass_rate"]);
 * assert.deepEqual(comparableMetrics({ grader: "exact_match" }), ["correct"]);
 * ```
 */
export function comparableMetrics(
  outcome:
    | Pick<Outcome, "grader">
    | Outcome
    | SingleOutcome
    | undefined,
): string[] {
  if (!outcome) return [];
  const o = outcome as Outcome;
  if (o.grader === "composite" && o.params) {
    return Object.entries(o.params.graders).flatMap(([id, g]) =>
      comparableMetrics(g).map((m) => `${id}.${m}`)
    );
  }
  if ((o.grader === "command" || o.grader === "function") && o.params) {
    return Object.entries(o.params.metrics).filter(([, m]) => m.comparable)
      .map(([name]) => name);
  }
  return [...(COMPARABLE_METRICS[o.grader] ?? [])];
}

/** One grader of an outcome, with its path in the spec. */
export interface OutcomePart {
  /** The composite component's id, or null for the outcome itself. */
  readonly id: string | null;
  readonly decl: SingleOutcome;
  readonly path: (string | number)[];
}

/**
 * The graders an outcome runs: the outcome itself, or each component of a composite (at
 * `outcome.params.graders.<id>`), so rules that check a grader's params check them wherever it appears.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeParts } from "./grader_metrics.ts";
 * import { OutcomeSchema } from "./schema.ts";
 * const outcome = OutcomeSchema.parse({
 *   grader: "composite",
 *   params: { graders: { a: { grader: "exact_match", params: { answer: "r.o" } } } },
 * });
 * assert.deepEqual(outcomeParts(outcome).map((p) => p.path), [["outcome", "params", "graders", "a"]]);
 * ```
 */
export function outcomeParts(outcome: Outcome | undefined): OutcomePart[] {
  if (!outcome) return [];
  if (outcome.grader !== "composite") {
    return [{ id: null, decl: outcome, path: ["outcome"] }];
  }
  return Object.entries(outcome.params.graders).map(([id, decl]) => ({
    id,
    decl,
    path: ["outcome", "params", "graders", id],
  }));
}
