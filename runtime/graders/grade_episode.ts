import type { OutcomeRecord } from "../events.ts";
import type { Grade, GradeInput, Grader } from "./grade.ts";
import { GRADERS } from "./registry.ts";
import type { SuccessCondition } from "../../dsl/mod.ts";

function text(value: unknown): string {
  return value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
    ? value
    : JSON.stringify(value);
}

/** Options of {@linkcode gradeEpisode}. */
export interface GradeEpisodeOptions {
  /** Wall-clock limit of one grading, in milliseconds; past it the episode is ungraded. @default 120000 */
  readonly timeoutMs?: number;
}

type Ungraded = NonNullable<OutcomeRecord["ungraded"]>;

/** Runs the grader under a wall-clock limit; a throw or a timeout is the infrastructure's, not the agents'. */
async function runGrader(
  grader: Grader,
  input: GradeInput,
  timeoutMs: number,
): Promise<Grade | { ungraded: Ungraded; message: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ ungraded: Ungraded; message: string }>(
    (resolve) => {
      timer = setTimeout(() =>
        resolve({
          ungraded: "grader_timeout",
          message: `it took longer than ${timeoutMs} ms`,
        }), timeoutMs);
    },
  );
  try {
    return await Promise.race([
      grader(input).catch((e: unknown) => ({
        ungraded: "grader_error" as const,
        message: e instanceof Error ? e.message : String(e),
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Grades a finished episode with the spec's outcome grader and decides success: the spec's
 * `outcome.success` rule on the metrics when declared, else the answer's correctness, else validity.
 * A grader that is missing, throws (a grader never throws for bad agent output, so a missing or
 * unreadable answers file) or times out leaves the episode ungraded (`ungraded` says which): it is
 * recorded with its reason, never as a success, and its outcome reward is masked (DESIGN.md decision 11).
 */
export async function gradeEpisode(
  input: GradeInput,
  options: GradeEpisodeOptions = {},
): Promise<OutcomeRecord | undefined> {
  const outcome = input.graph.outcome;
  if (!outcome) return undefined;
  const fair = { ...outcome.fair };
  const grader = GRADERS[outcome.grader];
  // No grade, through no fault of the actors: the episode keeps the outcome's fair metrics.
  let why: Ungraded | undefined;
  const ungraded = (
    kind: Ungraded,
    reason: string,
    summary: string,
  ): Grade => {
    why = kind;
    return {
      valid: false,
      correct: null,
      metrics: fair,
      fair: true,
      answer: null,
      expected: input.task.answer ?? null,
      reason,
      summary,
    };
  };
  let grade: Grade;
  if (!grader) {
    grade = ungraded(
      "grader_missing",
      `not graded: the "${outcome.grader}" grader is not available in this version`,
      `Not graded: no "${outcome.grader}" grader. Expected: ${
        text(input.task.answer)
      }.`,
    );
  } else {
    const got = await runGrader(
      grader,
      input,
      options.timeoutMs ?? 120_000,
    );
    grade = "ungraded" in got
      ? ungraded(
        got.ungraded,
        `the grader ${
          got.ungraded === "grader_timeout" ? "timed out" : "failed"
        }: ${got.message}`,
        `Not graded: the "${outcome.grader}" grader failed.`,
      )
      : got;
  }
  let success: boolean;
  const rule = outcome.success;
  const holds = (c: SuccessCondition) => {
    const value = grade.metrics[c.metric];
    return value !== undefined && Number.isFinite(value) &&
      (c.at_least === undefined || value >= c.at_least) &&
      (c.at_most === undefined || value <= c.at_most);
  };
  if (rule === undefined) success = grade.correct ?? grade.valid;
  else if ("metric" in rule) success = grade.valid && holds(rule);
  // Combined conditions read the metrics even of an invalid grade: a missing named answer is its 0.
  else if ("all" in rule) success = rule.all.every(holds);
  else if ("any" in rule) success = rule.any.some(holds);
  else success = rule.of.filter(holds).length >= rule.at_least_k;
  if (why !== undefined) success = false;
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
    ...(why !== undefined ? { ungraded: why } : {}),
  };
}
