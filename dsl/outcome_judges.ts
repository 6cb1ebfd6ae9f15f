import type { Outcome, SingleOutcome } from "./schema.ts";

/** An `llm_judge` grader declaration: the outcome itself, or a component of a composite. */
export type OutcomeJudgeDecl = Extract<SingleOutcome, { grader: "llm_judge" }>;

/** An `llm_judge` declaration with its path in the spec (`["outcome"]`, or a composite component's). */
export interface OutcomeJudgeUse {
  readonly judge: OutcomeJudgeDecl;
  readonly path: readonly (string | number)[];
}

/**
 * The `llm_judge` graders of an outcome: itself, or the components of a composite, with their paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeJudgeUses } from "./outcome_judges.ts";
 * import { OutcomeSchema } from "./schema.ts";
 * const outcome = OutcomeSchema.parse({ grader: "composite", params: { graders: {
 *   q: { grader: "llm_judge", params: { model: "judge", rubric: "{{ answer }}", answer: "a.out" } } } } });
 * assert.deepEqual(outcomeJudgeUses(outcome).map((u) => u.path), [["outcome", "params", "graders", "q"]]);
 * ```
 */
export function outcomeJudgeUses(
  outcome: Outcome | undefined,
): OutcomeJudgeUse[] {
  if (outcome?.grader === "llm_judge") {
    return [{ judge: outcome, path: ["outcome"] }];
  }
  if (outcome?.grader !== "composite") return [];
  return Object.entries(outcome.params.graders).flatMap(([id, g]) =>
    g.grader === "llm_judge"
      ? [{ judge: g, path: ["outcome", "params", "graders", id] }]
      : []
  );
}
