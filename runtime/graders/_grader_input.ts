import type { GraphOutcome } from "../../dsl/mod.ts";
import type { GradeInput } from "./grade.ts";
import { UngradedError } from "./ungraded_error.ts";

/**
 * The graph's outcome, narrowed to the grader `kind` that reads it; a TypeError when the outcome is another grader's
 * (a programmer error: the wrong grader was called).
 */
export function outcomeFor<K extends GraphOutcome["grader"]>(
  input: GradeInput,
  kind: K,
): Extract<GraphOutcome, { readonly grader: K }> {
  const outcome = input.graph.outcome;
  if (outcome?.grader !== kind) {
    throw new TypeError(
      `Cannot grade with the ${kind} grader: the outcome's grader is "${
        outcome?.grader ?? "none"
      }"`,
    );
  }
  return outcome as Extract<GraphOutcome, { readonly grader: K }>;
}

/**
 * What the compiler attached to the outcome itself (key `""`; a composite's components have their ids): its
 * program or function. Absent, the episode cannot be graded: `UngradedError` `grader_missing` with `missing`.
 */
export function ownCompiled<T>(
  byId: Readonly<Record<string, T>> | undefined,
  missing: string,
): T {
  const compiled = byId?.[""];
  if (compiled === undefined) {
    throw new UngradedError("grader_missing", missing);
  }
  return compiled;
}

/**
 * What a command grader reads on stdin and a function grader receives (README.md#custom-graders): the
 * task (without its answer), the expected answer, every role's declared outputs, the episode id, and
 * the outputs the outcome names under `answer` (`answer`, or `answers` by name).
 */
export function graderPayload(input: GradeInput): Record<string, unknown> {
  const { task } = input;
  const outcome = input.graph.outcome;
  const pick = (ref: { role: string; output: string }) =>
    input.outputs[ref.role]?.[ref.output] ?? null;
  return {
    task: {
      id: task.id,
      split: task.split,
      ...(task.category !== null ? { category: task.category } : {}),
      inputs: { ...task.inputs },
    },
    expected: task.answer ?? null,
    outputs: input.outputs,
    episode_id: input.episode_id ?? `${task.split}:${task.id}`,
    ...(outcome?.answer_ref ? { answer: pick(outcome.answer_ref) } : {}),
    ...(outcome?.answer_refs
      ? {
        answers: Object.fromEntries(
          Object.entries(outcome.answer_refs).map(([k, r]) => [k, pick(r)]),
        ),
      }
      : {}),
  };
}
