import { type Verdict, verdictKey } from "../coaches/mod.ts";
import { kendallTauB, mean, spearman } from "./stats.ts";

// Rubric A/B comparison over one run's actions (reference/judges-and-specs.md §4 item 4 and §5.5): the
// result is plain JSON (no Map, no NaN), and `formatComparison` renders it as text tables.

/** Options of `compareLayers`. */
export interface CompareOptions {
  /**
   * A verdict "flips" when its score is at or above this in one layer and below it in the other.
   * @default 5
   */
  readonly threshold?: number;
  /** Episode id -> task category (from the run's `episode_started` events); absent ids are uncategorised. */
  readonly categories?:
    | ReadonlyMap<string, string | null>
    | Readonly<Record<string, string | null>>;
}

/** How an action's verdict status differs between the layers. */
export type StatusChange =
  | "both_scored"
  | "both_unscored"
  | "scored_to_unscored"
  | "unscored_to_scored"
  | "only_a"
  | "only_b";

/** One action under both layers. `delta` is B − A, null unless scored in both. */
export interface ActionDifference {
  readonly episode_id: string;
  readonly attempt: number;
  readonly action_index: number;
  readonly role: string;
  readonly category: string | null;
  readonly a: number | null;
  readonly b: number | null;
  readonly delta: number | null;
  readonly status: StatusChange;
  /** Why the action is unscored in a layer that holds it unscored. */
  readonly a_reason?: string;
  readonly b_reason?: string;
  /** Set when the verdict crosses the threshold: `up` from below to at-or-above, `down` the reverse. */
  readonly flip?: "up" | "down";
}

/** Scores of one group (a role or a category) in one layer. */
export interface GroupMean {
  readonly scored: number;
  readonly unscored: number;
  readonly mean: number | null;
}

/** One group's means under both layers. */
export interface GroupComparison {
  readonly group: string | null;
  readonly a: GroupMean;
  readonly b: GroupMean;
  /** mean B − mean A, over each layer's own scored actions. */
  readonly delta: number | null;
}

/** What one layer holds and what it cost. */
export interface LayerTotals {
  /** `<rubric-name>@<rubric-hash>` of its first verdict; null for an empty layer. */
  readonly layer: string | null;
  readonly verdicts: number;
  readonly scored: number;
  readonly unscored: number;
  readonly mean: number | null;
  /** Judge calls made: the attempts of verdicts that did not come from the cache. */
  readonly judge_calls: number;
  readonly cache_hits: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Cost of the calls made; verdicts whose cost is unknown are counted in `cost_unknown`. */
  readonly cost_usd: number;
  readonly cost_unknown: number;
}

/** The comparison of two score layers over the same run (JSON output of `compare`). */
export interface Comparison {
  readonly threshold: number;
  readonly a: LayerTotals;
  readonly b: LayerTotals;
  /** Every action in either layer, in A's order then B's. */
  readonly actions: readonly ActionDifference[];
  /** Actions scored in both layers. */
  readonly paired: number;
  readonly spearman: number | null;
  readonly kendall_tau_b: number | null;
  readonly mean_delta: number | null;
  readonly mean_abs_delta: number | null;
  /** Paired actions that crossed the threshold. */
  readonly flips: readonly ActionDifference[];
  /** Actions not scored in both: status changes and actions only one layer holds. */
  readonly status_changes: readonly ActionDifference[];
  readonly by_role: readonly GroupComparison[];
  readonly by_category: readonly GroupComparison[];
  /** B − A. */
  readonly cost: {
    readonly delta_usd: number;
    readonly delta_calls: number;
    readonly delta_prompt_tokens: number;
    readonly delta_completion_tokens: number;
  };
}

function totals(verdicts: readonly Verdict[]): LayerTotals {
  let calls = 0, hits = 0, prompt = 0, completion = 0, cost = 0, unknown = 0;
  const scores: number[] = [];
  for (const v of verdicts) {
    if (v.status === "scored" && v.score !== null) scores.push(v.score);
    if (v.judge.cache_hit) {
      hits++;
      continue;
    }
    calls += v.judge.attempts;
    prompt += v.judge.prompt_tokens;
    completion += v.judge.completion_tokens;
    if (v.judge.cost_usd !== null) cost += v.judge.cost_usd;
    else if (v.judge.kind === "llm" && v.judge.attempts > 0) unknown++;
  }
  const first = verdicts[0];
  return {
    layer: first ? `${first.rubric.name}@${first.rubric.hash}` : null,
    verdicts: verdicts.length,
    scored: scores.length,
    unscored: verdicts.length - scores.length,
    mean: mean(scores),
    judge_calls: calls,
    cache_hits: hits,
    prompt_tokens: prompt,
    completion_tokens: completion,
    cost_usd: cost,
    cost_unknown: unknown,
  };
}

function scoreOf(v: Verdict | undefined): number | null {
  return v?.status === "scored" ? v.score : null;
}

function statusOf(
  a: Verdict | undefined,
  b: Verdict | undefined,
): StatusChange {
  if (a === undefined) return "only_b";
  if (b === undefined) return "only_a";
  const sa = scoreOf(a) !== null;
  const sb = scoreOf(b) !== null;
  return sa && sb
    ? "both_scored"
    : sa
    ? "scored_to_unscored"
    : sb
    ? "unscored_to_scored"
    : "both_unscored";
}

function groupMeans(
  diffs: readonly ActionDifference[],
  groupOf: (d: ActionDifference) => string | null,
): GroupComparison[] {
  const groups = new Map<
    string | null,
    { a: number[]; b: number[]; au: number; bu: number }
  >();
  for (const d of diffs) {
    const g = groupOf(d);
    const entry = groups.get(g) ?? { a: [], b: [], au: 0, bu: 0 };
    groups.set(g, entry);
    if (d.a !== null) entry.a.push(d.a);
    else if (d.status !== "only_b") entry.au++;
    if (d.b !== null) entry.b.push(d.b);
    else if (d.status !== "only_a") entry.bu++;
  }
  return [...groups].map(([group, e]) => {
    const ma = mean(e.a);
    const mb = mean(e.b);
    return {
      group,
      a: { scored: e.a.length, unscored: e.au, mean: ma },
      b: { scored: e.b.length, unscored: e.bu, mean: mb },
      delta: ma === null || mb === null ? null : mb - ma,
    };
  }).sort((x, y) => (x.group ?? "\uffff").localeCompare(y.group ?? "\uffff"));
}

/**
 * Compares two score layers of one run action by action: score differences and status changes,
 * Spearman's rho and Kendall's tau-b over actions scored in both, verdicts that cross `threshold`,
 * per-role and per-category means of each layer, and the judge cost and call difference (B − A).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareLayers } from "./compare.ts";
 * const c = compareLayers([], [], { threshold: 5 });
 * assert.equal(c.paired, 0);
 * assert.equal(c.spearman, null);
 * ```
 */
export function compareLayers(
  a: readonly Verdict[],
  b: readonly Verdict[],
  options: CompareOptions = {},
): Comparison {
  const threshold = options.threshold ?? 5;
  const categories = options.categories;
  const categoryOf = (episode: string): string | null =>
    (categories instanceof Map
      ? categories.get(episode)
      : (categories as Record<string, string | null> | undefined)?.[episode]) ??
      null;
  const byKeyA = new Map(a.map((v) => [verdictKey(v), v]));
  const byKeyB = new Map(b.map((v) => [verdictKey(v), v]));
  const keys = [...new Set([...byKeyA.keys(), ...byKeyB.keys()])];
  const actions = keys.map((key): ActionDifference => {
    const va = byKeyA.get(key);
    const vb = byKeyB.get(key);
    const v = (va ?? vb)!;
    const sa = scoreOf(va);
    const sb = scoreOf(vb);
    const crossed = sa !== null && sb !== null &&
      (sa >= threshold) !== (sb >= threshold);
    return {
      episode_id: v.episode_id,
      attempt: v.attempt,
      action_index: v.action_index,
      role: v.role,
      category: categoryOf(v.episode_id),
      a: sa,
      b: sb,
      delta: sa !== null && sb !== null ? sb - sa : null,
      status: statusOf(va, vb),
      ...(va?.reason && sa === null ? { a_reason: va.reason } : {}),
      ...(vb?.reason && sb === null ? { b_reason: vb.reason } : {}),
      ...(crossed
        ? { flip: sb! >= threshold ? "up" as const : "down" as const }
        : {}),
    };
  });
  const paired = actions.filter((d) => d.delta !== null);
  const xs = paired.map((d) => d.a!);
  const ys = paired.map((d) => d.b!);
  const ta = totals(a);
  const tb = totals(b);
  return {
    threshold,
    a: ta,
    b: tb,
    actions,
    paired: paired.length,
    spearman: spearman(xs, ys),
    kendall_tau_b: kendallTauB(xs, ys),
    mean_delta: mean(paired.map((d) => d.delta!)),
    mean_abs_delta: mean(paired.map((d) => Math.abs(d.delta!))),
    flips: actions.filter((d) => d.flip !== undefined),
    status_changes: actions.filter((d) => d.status !== "both_scored"),
    by_role: groupMeans(actions, (d) => d.role),
    by_category: groupMeans(actions, (d) => d.category),
    cost: {
      delta_usd: tb.cost_usd - ta.cost_usd,
      delta_calls: tb.judge_calls - ta.judge_calls,
      delta_prompt_tokens: tb.prompt_tokens - ta.prompt_tokens,
      delta_completion_tokens: tb.completion_tokens - ta.completion_tokens,
    },
  };
}
