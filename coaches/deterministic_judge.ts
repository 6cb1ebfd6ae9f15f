import type { GraphRubric } from "../dsl/mod.ts";
import { applyChecks } from "./apply_checks.ts";
import type { CheckDecision } from "./check_cache.ts";
import { type Evidence, type Verdict, verdictSubject } from "./types.ts";

/** Options of {@linkcode judgeDeterministically}. */
export interface DeterministicJudgeOptions {
  /**
   * The verdict's timestamp.
   * @default the current time
   */
  readonly now?: () => Date;
  /**
   * The decisions of the rubric's `when: command` checks (`decideCommandChecks`), by check id.
   * @default none (a rubric with a command check for the role then throws)
   */
  readonly commands?: ReadonlyMap<string, CheckDecision>;
}

/** The `judge` record of a verdict no model produced: no call, no tokens, no cost. */
export const DETERMINISTIC_JUDGE: Verdict["judge"] = {
  kind: "deterministic",
  model: null,
  model_name: null,
  temperature: null,
  seed: null,
  prompt_sha256: null,
  raw: [],
  attempts: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  cost_usd: null,
  latency_ms: 0,
  cache_hit: false,
};

/**
 * Scores one action with a rubric that has no template (a complete offline coach): the raw score is the
 * rubric's `default_score`, then its checks and caps apply (`applyChecks`). No model is called, so the
 * judge record has `kind: "deterministic"`, no model, no raw replies and no attempts; the reasoning lists
 * the facts and what fired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { GraphRubric } from "../dsl/mod.ts";
 * import type { Evidence } from "./types.ts";
 * import { judgeDeterministically } from "./deterministic_judge.ts";
 * const rubric = {
 *   name: "offline", hash: "abc", file: "r.yaml", scale: { min: 0, max: 10 }, default_score: 8,
 *   checks: [{ id: "crash", when: "tool_error", cap: 6 }], caps: [],
 * } as GraphRubric;
 * const evidence = {
 *   run_id: "r", episode_id: "eval:1", attempt: 1, action_index: 0, role: { id: "analyst" },
 *   fact_data: [{ kind: "tool_error", role: "analyst", text: "analyst's python code failed" }],
 * } as unknown as Evidence;
 * const verdict = judgeDeterministically(rubric, evidence);
 * assert.equal(verdict.raw_score, 8);
 * assert.equal(verdict.score, 6);
 * ```
 */
export function judgeDeterministically(
  rubric: GraphRubric,
  evidence: Evidence,
  options: DeterministicJudgeOptions = {},
): Verdict {
  if (rubric.template !== undefined) {
    throw new TypeError(
      `Cannot judge with rubric "${rubric.name}" deterministically: it has a template, which needs the LLM judge`,
    );
  }
  if (rubric.default_score === undefined) {
    throw new TypeError(
      `Cannot judge with rubric "${rubric.name}" deterministically: it has no default_score`,
    );
  }
  const raw = rubric.default_score;
  const { score, applied } = applyChecks(
    rubric,
    evidence,
    raw,
    options.commands,
  );
  const fired = applied.map((a) =>
    `${a.id} (${a.effect} ${a.value}${a.note ? `: ${a.note}` : ""})`
  );
  const reasoning = [
    `Deterministic rubric "${rubric.name}": default score ${raw}.`,
    evidence.fact_data.length > 0
      ? `Facts: ${evidence.fact_data.map((f) => f.text).join("; ")}.`
      : "No facts were established for this action.",
    fired.length > 0
      ? `Applied: ${fired.join(", ")}; score ${score}.`
      : `No check or cap applied; score ${score}.`,
  ].join(" ");
  return {
    ...verdictSubject(evidence, rubric),
    status: "scored",
    raw_score: raw,
    score,
    reasoning,
    blame: blameOf(evidence),
    applied: [...applied],
    judge: { ...DETERMINISTIC_JUDGE, raw: [] },
    ts: (options.now?.() ?? new Date()).toISOString(),
  };
}

/** The role a deterministic coach blames: the producer of a missing upstream file, else the acting role at fault. */
function blameOf(evidence: Evidence): string | null {
  const upstream = evidence.fact_data.find((f) =>
    f.kind === "upstream_file_missing"
  );
  if (upstream) return upstream.role;
  const own = evidence.fact_data.find((f) =>
    f.kind !== "consumed_file_missing" && f.kind !== "model_error"
  );
  return own ? own.role : null;
}
