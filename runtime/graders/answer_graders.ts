import type { Grade, GradeInput, Grader } from "./grade.ts";
import { SpecRegex } from "../spec_regex.ts";
import {
  answeredGrade,
  gradeNamedAnswers,
  missingAnswer,
  noExpectedAnswer,
} from "./_named_answers.ts";
import { shownValue } from "./shown_value.ts";

export { missingAnswer, noExpectedAnswer } from "./_named_answers.ts";

function answerOf(input: GradeInput): string | null {
  const ref = input.graph.outcome?.answer_ref;
  return ref ? input.outputs[ref.role]?.[ref.output] ?? null : null;
}

function fairMetrics(input: GradeInput): Record<string, number> {
  return { correct: 0, ...(input.graph.outcome?.fair ?? {}) };
}

/** Grades an answer with an equality test; shared by exact_match and regex. */
function answerGrader(
  name: string,
  equal: (
    answer: string,
    expected: unknown,
    input: GradeInput,
    answerName: string | null,
  ) => boolean,
  needsExpected: boolean,
): Grader {
  return (input) => {
    if (input.graph.outcome?.answer_refs !== undefined) {
      return gradeNamedAnswers(
        input,
        name,
        (answer, expected, answerName) =>
          equal(answer, expected, input, answerName),
        needsExpected,
      );
    }
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
          shownValue(expected)
        }. No answer was given, so the episode failed (${name}).`,
      };
      return Promise.resolve(grade);
    }
    const correct = equal(answer, expected, input, null);
    return Promise.resolve(answeredGrade(
      answer,
      expected,
      correct,
      `Expected: ${shownValue(expected)}. Answer: ${answer}. ${
        correct ? "Correct" : "Wrong"
      } (${name}).`,
    ));
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
    return norm(answer) === norm(shownValue(expected));
  },
  true,
);

/** `regex`: the answer matches the declared pattern (the expected answer is not used). */
export const regexGrader: Grader = answerGrader(
  "regex",
  (answer, _expected, input, answerName) => {
    const params = input.graph.outcome?.params as
      | { pattern?: string | Record<string, string> }
      | undefined;
    const pattern = typeof params?.pattern === "string"
      ? params.pattern
      : answerName !== null
      ? params?.pattern?.[answerName]
      : undefined;
    return pattern !== undefined && SpecRegex.compile(pattern).test(answer);
  },
  false,
);
