import type { Grade, GradeInput } from "./grade.ts";

/** Whether a task row's expected answer is missing (absent, null, or blank text). */
export function missingAnswer(expected: unknown): boolean {
  return expected === null || expected === undefined ||
    (typeof expected === "string" && expected.trim() === "");
}

/** The error of a grader that needs the task's expected answer and the row has none. */
export function noExpectedAnswer(input: GradeInput, name?: string): Error {
  return new Error(
    name === undefined
      ? `task "${input.task.id}" has no expected answer (its row's answer field is missing or empty); add the answer to the row, or remove the row`
      : `task "${input.task.id}" has no expected answer "${name}" (its row's answer must be an object with a value for every named answer); add it to the row, or remove the row`,
  );
}

/** The grade of an answer that was given: valid, `correct` as compared, its `correct` metric 1 or 0. */
export function answeredGrade(
  answer: string,
  expected: unknown,
  correct: boolean,
  summary: string,
): Grade {
  return {
    valid: true,
    correct,
    metrics: { correct: correct ? 1 : 0 },
    fair: false,
    answer,
    expected,
    summary,
  };
}

function shown(value: unknown): string {
  return value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
    ? JSON.stringify(value)
    : JSON.stringify(value);
}

/**
 * Grades an outcome with named answers (`answer: {name: <role>.<output>}`): each answer on its own with
 * `equal`, reported as a metric of its name (1 or 0), and `correct` when every one is. A missing answer is
 * 0 for its name and makes the grade invalid (the agents' failure, graded); a task row without the expected
 * value a name needs rejects (the dataset's fault: the episode is ungraded).
 */
export function gradeNamedAnswers(
  input: GradeInput,
  grader: string,
  equal: (answer: string, expected: unknown, name: string) => boolean,
  needsExpected: boolean,
): Promise<Grade> {
  const refs = input.graph.outcome?.answer_refs ?? {};
  const row = input.task.answer;
  const expectedOf = (name: string): unknown =>
    typeof row === "object" && row !== null && !Array.isArray(row)
      ? (row as Record<string, unknown>)[name]
      : undefined;
  const metrics: Record<string, number> = {};
  const answers: Record<string, string | null> = {};
  const expected: Record<string, unknown> = {};
  const parts: string[] = [];
  let all = true;
  let missing = 0;
  for (const [name, ref] of Object.entries(refs)) {
    const want = expectedOf(name);
    if (needsExpected && missingAnswer(want)) {
      return Promise.reject(noExpectedAnswer(input, name));
    }
    const answer = input.outputs[ref.role]?.[ref.output] ?? null;
    answers[name] = answer;
    expected[name] = want ?? null;
    const ok = answer !== null && equal(answer, want, name);
    if (answer === null) missing++;
    metrics[name] = ok ? 1 : 0;
    all &&= ok;
    parts.push(
      `${name} (${ref.role}.${ref.output}): ${shown(answer)} ${
        answer === null ? "missing" : ok ? "right" : "wrong"
      }${needsExpected ? `, expected ${shown(want)}` : ""}`,
    );
  }
  return Promise.resolve({
    valid: missing === 0,
    correct: all,
    metrics: { correct: all ? 1 : 0, ...metrics },
    fair: false,
    answer: JSON.stringify(answers),
    expected: needsExpected ? expected : null,
    ...(missing > 0 ? { reason: `${missing} named answers missing` } : {}),
    summary: `${parts.join("; ")}. ${
      all ? "Every answer is right" : "Not every answer is right"
    } (${grader}).`,
  });
}
