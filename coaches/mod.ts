/**
 * The coaches: evidence for each action from the run log, LLM and deterministic judges, checks and caps,
 * score layers and rescoring (evidence -> rubric -> verdict). Imports `dsl/` and `runtime/` of mappa;
 * implements the runtime's Coach port (`RunCoach`). Reports, plots, statistics and comparison live in
 * `report/`.
 *
 * @module
 */
export * from "./apply_checks.ts";
export * from "./check_cache.ts";
export * from "./command_check.ts";
export * from "./deterministic_judge.ts";
export * from "./evidence.ts";
export * from "./facts.ts";
export * from "./judge_budget.ts";
export * from "./judge_cache.ts";
export * from "./llm_judge.ts";
export * from "./outcome_evidence.ts";
export * from "./outcome_judge.ts";
export * from "./outcome_judge_prompt.ts";
export * from "./parse_verdict.ts";
export * from "./render_judge_prompt.ts";
export * from "./rescore.ts";
export * from "./demo_judge.ts";
export * from "./run_coach.ts";
export * from "./score_layer.ts";
export * from "./types.ts";
