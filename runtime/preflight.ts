import type { ExecutionGraph, Outcome, SingleOutcome } from "../dsl/mod.ts";
import type { ModelClient } from "./ports.ts";

/** Thrown before a run's first episode when a model it needs cannot be used; one line per model. */
export class PreflightError extends Error {
  /** One line per model, each with its fix. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? problems[0]!
        : `${problems.length} models cannot be used:\n  ${
          problems.join("\n  ")
        }`,
    );
    this.name = "PreflightError";
    this.problems = problems;
  }
}

/** The models of the outcome's LLM judges (a composite's included): grading needs them too. */
function outcomeJudgeModels(
  outcome: Outcome | SingleOutcome | undefined,
): string[] {
  if (outcome === undefined) return [];
  if (outcome.grader === "llm_judge") return [outcome.params.model];
  if (outcome.grader === "composite") {
    return Object.values(outcome.params.graders).flatMap(outcomeJudgeModels);
  }
  return [];
}

/**
 * Reaches every model endpoint a run needs before its first episode (the roles' models, the coach's
 * when the run is coached, the outcome's LLM judges'), so a refused connection, a refused key or an unknown model stops the run at
 * once instead of failing every action. Resolves with the notes to show; rejects with
 * {@linkcode PreflightError}. A client without `preflight` (scripted, a trainer-served policy) passes.
 */
export async function preflightModels(
  graph: ExecutionGraph,
  client: ModelClient,
  options: { readonly coached?: boolean } = {},
): Promise<readonly string[]> {
  if (!client.preflight) return [];
  const models = new Set(graph.roles.map((r) => r.model));
  if (options.coached && graph.coach?.model) models.add(graph.coach.model);
  for (const m of outcomeJudgeModels(graph.outcome)) models.add(m);
  const report = await client.preflight([...models].sort());
  if (report.errors.length > 0) throw new PreflightError(report.errors);
  return report.notes;
}
