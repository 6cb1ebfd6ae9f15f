import type { Grade, GradeInput } from "./grade.ts";
import {
  answeredGrade,
  gradeNamedAnswers,
  missingAnswer,
  noExpectedAnswer,
} from "./_named_answers.ts";
import { mathEqual, normalizeAnswer } from "./math_answer.ts";

function invalid(
  input: GradeInput,
  answer: unknown,
  reason: string,
  summary: string,
): Grade {
  const fair = input.graph.outcome?.fair ?? {};
  return {
    valid: false,
    correct: null,
    metrics: { correct: 0, ...fair },
    fair: true,
    answer,
    expected: input.task.answer,
    reason,
    summary,
  };
}

/**
 * The `math_equivalence` grader: compares the answer at `outcome.params.answer` (the role output the runtime
 * extracted, normally the last `\boxed{}`) with the task's expected answer using {@linkcode mathEqual} and the spec's
 * tolerance and its `boxed` and `chained` policies for several boxed answers and chained equalities
 * (docs/math_grading.md): when the comparison is unsure, the answer is not equal. A missing answer is an invalid grade with the spec's fair values (`correct` 0 unless `fair` says
 * otherwise); a task without an expected answer rejects (the dataset's fault: the episode is ungraded). Throws TypeError only for a graph whose outcome is
 * not `math_equivalence` with a resolved answer reference (a programmer error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExecutionGraph } from "../../dsl/mod.ts";
 * import { mathEquivalenceGrader } from "./math_equivalence.ts";
 * const graph = {
 *   outcome: {
 *     grader: "math_equivalence",
 *     params: { answer: "verifier.answer", tolerance: 1e-6 },
 *     fair: {},
 *     answer_ref: { role: "verifier", output: "answer" },
 *   },
 * } as unknown as ExecutionGraph;
 * const task = { id: "t1", index: 0, split: "eval", category: null, inputs: {}, answer: "023", files: [], row: {} };
 * const grade = await mathEquivalenceGrader({
 *   graph,
 *   task,
 *   outputs: { verifier: { answer: "23" } },
 *   workspace: ".",
 * });
 * assert.equal(grade.correct, true);
 * assert.deepEqual(grade.metrics, { correct: 1 });
 * ```
 */
export function mathEquivalenceGrader(input: GradeInput): Promise<Grade> {
  const outcome = input.graph.outcome;
  if (
    outcome?.grader === "math_equivalence" && outcome.answer_refs !== undefined
  ) {
    const options = {
      tolerance: outcome.params.tolerance,
      boxed: outcome.params.boxed,
      chained: outcome.params.chained,
    };
    return gradeNamedAnswers(
      input,
      "math_equivalence",
      (answer, expected) =>
        (typeof expected === "string" || typeof expected === "number") &&
        mathEqual(answer, String(expected), options),
      true,
    );
  }
  if (outcome?.grader !== "math_equivalence" || !outcome.answer_ref) {
    return Promise.reject(
      new TypeError(
        `Cannot grade with math_equivalence: the graph's outcome grader is "${
          outcome?.grader ?? "none"
        }"${outcome?.answer_ref ? "" : " without an answer reference"}`,
      ),
    );
  }
  const { role, output } = outcome.answer_ref;
  const answer = input.outputs[role]?.[output] ?? null;
  const expected = input.task.answer;
  if (
    missingAnswer(expected) ||
    (typeof expected !== "string" && typeof expected !== "number")
  ) {
    // The dataset's fault, not the agents': the episode is ungraded (its outcome reward masked).
    return Promise.reject(noExpectedAnswer(input));
  }
  if (answer === null) {
    return Promise.resolve(invalid(
      input,
      null,
      "no boxed answer",
      `${role} gave no boxed answer (${role}.${output} is empty); the expected answer is "${
        String(expected)
      }".`,
    ));
  }
  const correct = mathEqual(answer, String(expected), {
    tolerance: outcome.params.tolerance,
    boxed: outcome.params.boxed,
    chained: outcome.params.chained,
  });
  const shown = normalizeAnswer(answer);
  return Promise.resolve(answeredGrade(
    answer,
    expected,
    correct,
    correct
      ? `${role}'s answer "${shown}" equals the expected answer "${
        String(expected)
      }".`
      : `${role}'s answer "${shown}" does not equal the expected answer "${
        String(expected)
      }".`,
  ));
}
