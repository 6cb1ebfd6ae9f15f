import type { GraphOutcome, SingleOutcome } from "../../dsl/mod.ts";
import { outcomeFor } from "./_grader_input.ts";
import type { Grade, Grader } from "./grade.ts";
import { UngradedError } from "./ungraded_error.ts";

function split(ref: string): { role: string; output: string } {
  const dot = ref.indexOf(".");
  return { role: ref.slice(0, dot), output: ref.slice(dot + 1) };
}

/**
 * A composite's component as an outcome of its own, as its grader reads `graph.outcome`: its answer
 * references split, its compiled program or function, and no fair values (the composite's apply).
 */
function componentOutcome(
  composite: GraphOutcome,
  id: string,
  decl: SingleOutcome,
): GraphOutcome {
  const answer = "answer" in decl.params ? decl.params.answer : undefined;
  const program = composite.programs?.[id];
  const fn = composite.functions?.[id];
  return {
    ...decl,
    fair: {},
    ...(typeof answer === "string" ? { answer_ref: split(answer) } : {}),
    ...(answer !== undefined && typeof answer !== "string"
      ? {
        answer_refs: Object.fromEntries(
          Object.entries(answer).map(([k, r]) => [k, split(r)]),
        ),
      }
      : {}),
    ...(program ? { programs: { "": program } } : {}),
    ...(fn ? { functions: { "": fn } } : {}),
  } as GraphOutcome;
}

/**
 * `grader: composite`: runs each component grader (any kind but composite, built-in or passed in through
 * `GradeInput.graders`) in turn and reports its metrics as `<id>.<metric>`. The result is valid when every
 * component's is; an invalid component's metrics take the composite's fair values (`fair` names them
 * `<id>.<metric>`). A component that cannot grade leaves the whole episode ungraded, the message naming it.
 */
export const compositeGrader: Grader = async (input) => {
  const outcome = outcomeFor(input, "composite");
  const metrics: Record<string, number> = {};
  const summaries: string[] = [];
  const reasons: string[] = [];
  const answers: Record<string, unknown> = {};
  const corrects: boolean[] = [];
  let valid = true;
  for (const [id, decl] of Object.entries(outcome.params.graders)) {
    const grader = input.graders?.[decl.grader];
    if (grader === undefined) {
      throw new UngradedError(
        "grader_missing",
        `component "${id}": the "${decl.grader}" grader is not available in this run`,
      );
    }
    let grade: Grade;
    try {
      grade = await grader({
        ...input,
        graph: {
          ...input.graph,
          outcome: componentOutcome(outcome, id, decl),
        },
      });
    } catch (e) {
      const message = `component "${id}" (${decl.grader}): ${
        e instanceof Error ? e.message : String(e)
      }`;
      throw e instanceof UngradedError
        ? new UngradedError(e.kind, message, { cause: e })
        : new UngradedError("grader_error", message, { cause: e });
    }
    if (!grade.valid) {
      valid = false;
      reasons.push(`${id}: ${grade.reason ?? "invalid"}`);
    }
    for (const [k, v] of Object.entries(grade.metrics)) {
      metrics[`${id}.${k}`] = grade.valid ? v : outcome.fair[`${id}.${k}`] ?? v;
    }
    if (!grade.valid) {
      for (const [k, v] of Object.entries(outcome.fair)) {
        if (k.startsWith(`${id}.`)) metrics[k] = v;
      }
    }
    if (grade.correct !== null) corrects.push(grade.correct);
    answers[id] = grade.answer ?? null;
    summaries.push(`[${id}] ${grade.summary}`);
  }
  return {
    valid,
    correct: corrects.length === 0 ? null : corrects.every((c) => c),
    metrics,
    fair: !valid,
    answer: answers,
    expected: input.task.answer ?? null,
    ...(reasons.length > 0 ? { reason: reasons.join("; ") } : {}),
    summary: summaries.join("\n"),
  };
};
