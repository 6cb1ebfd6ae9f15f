import type { OutcomeRecord } from "../events.ts";
import type { Grade, GradeInput } from "./grade.ts";
import { GRADERS } from "./registry.ts";

function text(value: unknown): string {
  return value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
    ? value
    : JSON.stringify(value);
}

/**
 * Grades a finished episode with the spec's outcome grader and decides success: the spec's
 * `outcome.success` rule on the metrics when declared, else the answer's correctness, else validity.
 * A grader that is missing or fails is recorded with its reason, never as a success.
 */
export async function gradeEpisode(
  input: GradeInput,
): Promise<OutcomeRecord | undefined> {
  const outcome = input.graph.outcome;
  if (!outcome) return undefined;
  const fair = { ...outcome.fair };
  const grader = GRADERS[outcome.grader];
  // No grade, through no fault of the actors: the episode keeps the outcome's fair metrics.
  const ungraded = (reason: string, summary: string): Grade => ({
    valid: false,
    correct: null,
    metrics: fair,
    fair: true,
    answer: null,
    expected: input.task.answer ?? null,
    reason,
    summary,
  });
  let grade: Grade;
  if (!grader) {
    grade = ungraded(
      `not graded: the "${outcome.grader}" grader is not available in this version`,
      `Not graded: no "${outcome.grader}" grader. Expected: ${
        text(input.task.answer)
      }.`,
    );
  } else {
    try {
      grade = await grader(input);
    } catch (e) {
      grade = ungraded(
        `the grader failed: ${e instanceof Error ? e.message : String(e)}`,
        `Not graded: the "${outcome.grader}" grader failed.`,
      );
    }
  }
  let success: boolean;
  const rule = outcome.success;
  if (rule) {
    const value = grade.metrics[rule.metric];
    success = grade.valid && value !== undefined &&
      (rule.at_least === undefined || value >= rule.at_least) &&
      (rule.at_most === undefined || value <= rule.at_most);
  } else success = grade.correct ?? grade.valid;
  return {
    grader: outcome.grader,
    valid: grade.valid,
    correct: grade.correct,
    success,
    metrics: { ...grade.metrics },
    fair: grade.fair,
    answer: grade.answer ?? null,
    expected: grade.expected ?? null,
    ...(grade.reason !== undefined ? { reason: grade.reason } : {}),
    summary: grade.summary,
  };
}
