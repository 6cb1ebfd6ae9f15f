import type { GradeInput } from "./grade.ts";

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
