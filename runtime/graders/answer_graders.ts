import type { Grade, GradeInput, Grader } from "./grade.ts";
import { SpecRegex } from "../spec_regex.ts";

function answerOf(input: GradeInput): string | null {
  const ref = input.graph.outcome?.answer_ref;
  return ref ? input.outputs[ref.role]?.[ref.output] ?? null : null;
}

function fairMetrics(input: GradeInput): Record<string, number> {
  return { correct: 0, ...(input.graph.outcome?.fair ?? {}) };
}

function text(value: unknown): string {
  return value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
    ? value
    : JSON.stringify(value);
}

/** Grades an answer with an equality test; shared by exact_match and regex. */
function answerGrader(
  name: string,
  equal: (answer: string, expected: unknown, input: GradeInput) => boolean,
  needsExpected: boolean,
): Grader {
  return (input) => {
    const answer = answerOf(input);
    const expected = input.task.answer ?? null;
    if (needsExpected && missingAnswer(expected)) {
      // The dataset's fault, not the agents': the episode is ungraded (its outcome reward masked).
      return Promise.reject(noExpectedAnswer(input));
    }
    if (answer === null) {
      const ref = input.graph.outcome?.answer_ref;
      const grade: Grade = {
        valid: false,
        correct: false,
        metrics: fairMetrics(input),
        fair: true,
        answer: null,
        expected,
        reason: `no answer: ${
          ref ? `${ref.role}.${ref.output}` : "the answer output"
        } was not found in the reply`,
        summary: `Expected: ${
          text(expected)
        }. No answer was given, so the episode failed (${name}).`,
      };
      return Promise.resolve(grade);
    }
    const correct = equal(answer, expected, input);
    return Promise.resolve({
      valid: true,
      correct,
      metrics: { correct: correct ? 1 : 0 },
      fair: false,
      answer,
      expected,
      summary: `Expected: ${text(expected)}. Answer: ${answer}. ${
        correct ? "Correct" : "Wrong"
      } (${name}).`,
    });
  };
}

/** `exact_match`: the answer equals the expected one after trimming (case-insensitive unless declared). */
export const exactMatchGrader: Grader = answerGrader(
  "exact match",
  (answer, expected, input) => {
    const params = input.graph.outcome?.params as
      | { case_sensitive?: boolean }
      | undefined;
    const norm = (
      s: string,
    ) => (params?.case_sensitive ? s.trim() : s.trim().toLowerCase());
    return norm(answer) === norm(text(expected));
  },
  true,
);

/** `regex`: the answer matches the declared pattern (the expected answer is not used). */
export const regexGrader: Grader = answerGrader(
  "regex",
  (answer, _expected, input) => {
    const params = input.graph.outcome?.params as
      | { pattern?: string }
      | undefined;
    return params?.pattern !== undefined &&
      SpecRegex.compile(params.pattern).test(answer);
  },
  false,
);

/** Whether a task row's expected answer is missing (absent, null, or blank text). */
export function missingAnswer(expected: unknown): boolean {
  return expected === null || expected === undefined ||
    (typeof expected === "string" && expected.trim() === "");
}

/** The error of a grader that needs the task's expected answer and the row has none. */
export function noExpectedAnswer(input: GradeInput): Error {
  return new Error(
    `task "${input.task.id}" has no expected answer (its row's answer field is missing or empty); add the answer to the row, or remove the row`,
  );
}
