import type { GraphRubric } from "../dsl/mod.ts";
import type { CheckDecision } from "./check_cache.ts";
import type { Evidence, Verdict } from "./types.ts";
import { SpecRegex } from "../runtime/mod.ts";

/** One check or cap that fired, as a verdict records it. */
export type AppliedCheck = Verdict["applied"][number];

/** The score after a rubric's checks and caps, and what fired. */
export interface CheckedScore {
  readonly score: number;
  readonly applied: readonly AppliedCheck[];
}

type Band = GraphRubric["caps"][number]["bands"][number];

function bandMatches(band: Band, value: number): boolean {
  return (band.at_least === undefined || value >= band.at_least) &&
    (band.below === undefined || value < band.below);
}

function appliesTo(roles: readonly string[] | undefined, role: string) {
  return roles === undefined || roles.includes(role);
}

/**
 * Applies a rubric's deterministic checks and metric caps to a raw score (the judge's, or a deterministic
 * rubric's `default_score`); the raw score is the caller's to keep beside the result: check caps, then
 * check floors, then metric caps, then the scale (docs/checks.md#order-of-application gives the rules).
 * Every check and band that fired is listed in `applied`, whether or not it changed the score.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { GraphRubric } from "../dsl/mod.ts";
 * import type { Evidence } from "./types.ts";
 * import { applyChecks } from "./apply_checks.ts";
 * const rubric = {
 *   name: "r", hash: "h", file: "r.yaml", scale: { min: 0, max: 10 }, caps: [],
 *   checks: [{ id: "missing", when: "required_file_missing", cap: 2 }],
 * } as GraphRubric;
 * const evidence = {
 *   role: { id: "data_engineer" },
 *   fact_data: [{ kind: "required_file_missing", role: "data_engineer", text: "" }],
 *   scale: { min: 0, max: 10 },
 * } as unknown as Evidence;
 * assert.deepEqual(applyChecks(rubric, evidence, 8), {
 *   score: 2,
 *   applied: [{ id: "missing", kind: "check", effect: "cap", value: 2 }],
 * });
 * ```
 */
export function applyChecks(
  rubric: GraphRubric,
  evidence: Evidence,
  raw: number,
  commands: ReadonlyMap<string, CheckDecision> = new Map(),
): CheckedScore {
  const role = evidence.role.id;
  const holds = new Set<string>(evidence.fact_data.map((f) => f.kind));
  const holdsFor = (c: GraphRubric["checks"][number]) => {
    if (c.when === "reply_mismatch") {
      return !SpecRegex.compile(c.pattern ?? "").test(evidence.action.output);
    }
    if (c.when !== "command") return holds.has(c.when);
    const decision = commands.get(c.id);
    if (decision === undefined) {
      throw new TypeError(
        `Cannot apply check "${c.id}": its program's decision was not given; run decideCommandChecks first`,
      );
    }
    return decision.fires;
  };
  const fired = rubric.checks.filter((c) =>
    appliesTo(c.roles, role) && holdsFor(c)
  );
  const noteOf = (c: GraphRubric["checks"][number]) => {
    const note = commands.get(c.id)?.note;
    return c.when === "command" && note !== undefined ? { note } : {};
  };
  const applied: AppliedCheck[] = [];
  let score = raw;
  // Caps first, then floors: a floor lifts a capped score.
  for (const effect of ["cap", "floor"] as const) {
    for (const c of fired) {
      const value = c[effect];
      if (value === undefined) continue;
      applied.push({ id: c.id, kind: "check", effect, value, ...noteOf(c) });
      score = effect === "cap"
        ? Math.min(score, value)
        : Math.max(score, value);
    }
  }
  const metrics = evidence.outcome?.metrics ?? {};
  for (const cap of rubric.caps) {
    if (!appliesTo(cap.roles, role) || !Object.hasOwn(metrics, cap.metric)) {
      continue;
    }
    const value = metrics[cap.metric];
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    const band = cap.bands.find((b) => bandMatches(b, value));
    if (band === undefined) continue;
    applied.push({
      id: cap.id,
      kind: "cap",
      effect: "cap",
      value: band.max_score,
    });
    score = Math.min(score, band.max_score);
  }
  const { min, max } = rubric.scale;
  return { score: Math.min(max, Math.max(min, score)), applied };
}
