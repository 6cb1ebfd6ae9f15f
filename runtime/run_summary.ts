import {
  COMPARABLE_FAIR_DEFAULT,
  COMPARABLE_METRICS,
  type Outcome,
} from "../dsl/mod.ts";
import type { RunEvent } from "./events.ts";

/** Counts of a run, kept up to date from its events (live progress and the closing summary). */
export interface RunSummary {
  run_id: string;
  run_dir: string;
  policy: "model" | "demo";
  status: "running" | "completed" | "interrupted" | "error";
  episodes_total: number;
  episodes_done: number;
  episodes_failed: number;
  /** Episodes whose model calls failed for an infrastructure reason (server, key, model name): --resume runs them again. */
  episodes_model_failed: number;
  /** Episodes finished in an earlier session of a resumed run (counted in `episodes_done` and the rest too). */
  episodes_skipped: number;
  actions: number;
  actions_per_role: Record<string, number>;
  model_errors: number;
  tool_executions: number;
  tool_errors: number;
  /** role_finished events whose role left required files missing or artifacts invalid. */
  contract_violations: number;
  /** Episodes graded by the outcome grader, and those that succeeded. */
  graded: number;
  successes: number;
  /** Episodes the grader could not grade for an infrastructure reason (not in `graded`; rewards masked). */
  ungraded: number;
  /** Which episodes those are, and why (`reason` as the grade recorded it). */
  ungraded_episodes: {
    episode_id: string;
    grader: string;
    kind: string;
    reason: string;
  }[];
  /**
   * Per task category: graded episodes, successes, episodes that failed before grading, and the mean of each
   * metric that is on one scale across tasks (`COMPARABLE_METRICS`: `correct`, or tabular `score` and
   * `valid_submission`). Means count failed episodes at the spec's fair values and invalid submissions at
   * their graded fair values; ungraded episodes (grader failures) are left out.
   */
  by_category: Record<
    string,
    {
      graded: number;
      successes: number;
      failed: number;
      metrics: Record<string, number>;
    }
  >;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  started_ms: number;
  wall_ms: number;
}

/** A fresh summary. */
export function emptySummary(
  runId: string,
  runDir: string,
  policy: RunSummary["policy"],
  total: number,
  skipped: number,
  options: EmptySummaryOptions = {},
): RunSummary {
  const summary: RunSummary = {
    run_id: runId,
    run_dir: runDir,
    policy,
    status: "running",
    episodes_total: total,
    episodes_done: 0,
    episodes_failed: 0,
    episodes_model_failed: 0,
    episodes_skipped: skipped,
    actions: 0,
    actions_per_role: {},
    model_errors: 0,
    tool_executions: 0,
    tool_errors: 0,
    contract_violations: 0,
    graded: 0,
    successes: 0,
    ungraded: 0,
    ungraded_episodes: [],
    by_category: {},
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    started_ms: Date.now(),
    wall_ms: 0,
  };
  state.set(summary, {
    categories: new Map(),
    counts: new Map(),
    outcome: options.outcome,
  });
  return summary;
}

/** What the summary needs of the spec to count failed episodes at their fair values. */
export interface EmptySummaryOptions {
  /** The spec's outcome grader and fair values; without it, failed episodes are counted but not averaged. */
  readonly outcome?: Pick<Outcome, "grader" | "fair"> & {
    /** The metrics the means average (`comparableMetrics(outcome)`); default the grader's `COMPARABLE_METRICS`. */
    readonly comparable?: readonly string[];
  };
}

// Per-summary bookkeeping that is not part of the summary's JSON.
interface SummaryState {
  categories: Map<string, string>;
  counts: Map<string, number>;
  outcome: EmptySummaryOptions["outcome"];
}
const state = new WeakMap<RunSummary, SummaryState>();

// Folds an episode's values into its category's running means, for the metrics comparable across tasks;
// returns the category's counts.
function addMeans(
  s: RunSummary,
  own: SummaryState,
  episodeId: string,
  grader: string,
  values: (metric: string) => number | undefined,
): RunSummary["by_category"][string] {
  const category = own.categories.get(episodeId) ?? "(none)";
  const c = s.by_category[category] ??= {
    graded: 0,
    successes: 0,
    failed: 0,
    metrics: {},
  };
  const comparable = own.outcome?.comparable ??
    COMPARABLE_METRICS[grader as keyof typeof COMPARABLE_METRICS] ?? [];
  for (const k of comparable) {
    const v = values(k);
    if (v === undefined || !Number.isFinite(v)) continue;
    const key = `${category}\u0000${k}`;
    const n = (own.counts.get(key) ?? 0) + 1;
    own.counts.set(key, n);
    c.metrics[k] = (c.metrics[k] ?? 0) + (v - (c.metrics[k] ?? 0)) / n; // running mean
  }
  return c;
}

/** Folds one event into the summary, in place. */
export function addEvent(s: RunSummary, e: RunEvent): void {
  let own = state.get(s);
  if (!own) {
    state.set(
      s,
      own = { categories: new Map(), counts: new Map(), outcome: undefined },
    );
  }
  const { categories } = own;
  s.wall_ms = Date.now() - s.started_ms;
  switch (e.kind) {
    case "action": {
      s.actions++;
      const role = e.role ?? "?";
      s.actions_per_role[role] = (s.actions_per_role[role] ?? 0) + 1;
      if (!e.model_call.ok) s.model_errors++;
      s.prompt_tokens += e.model_call.usage?.prompt_tokens ?? 0;
      s.completion_tokens += e.model_call.usage?.completion_tokens ?? 0;
      s.cost_usd += e.model_call.cost_usd ?? 0;
      s.tool_executions += e.executions.length;
      s.tool_errors += e.executions.filter((x) => x.status !== "ok").length;
      break;
    }
    case "role_finished":
      if (
        e.contract.missing_required.length > 0 || e.contract.invalid.length > 0
      ) s.contract_violations++;
      break;
    case "episode_finished":
      if (e.status === "completed") s.episodes_done++;
      else s.episodes_failed++;
      if (e.model_failures > 0) s.episodes_model_failed++;
      if (e.outcome?.ungraded !== undefined) {
        // A grader failure is not the agents': counted apart, out of the success rate and the means.
        s.ungraded++;
        s.ungraded_episodes.push({
          episode_id: e.episode_id,
          grader: e.outcome.grader,
          kind: e.outcome.ungraded,
          reason: e.outcome.reason ?? "no reason recorded",
        });
      } else if (e.outcome) {
        s.graded++;
        if (e.outcome.success) s.successes++;
        const metrics = e.outcome.metrics;
        const c = addMeans(
          s,
          own,
          e.episode_id,
          e.outcome.grader,
          (k) => metrics[k],
        );
        c.graded++;
        if (e.outcome.success) c.successes++;
      } else if (e.status !== "completed" && own.outcome) {
        // Failed before grading: in the means at the spec's fair values, so failures cannot raise them.
        const fair = own.outcome.fair;
        addMeans(
          s,
          own,
          e.episode_id,
          own.outcome.grader,
          (k) => fair[k] ?? COMPARABLE_FAIR_DEFAULT,
        ).failed++;
      }
      break;
    case "episode_started":
      categories.set(e.episode_id, e.category ?? "(none)");
      break;
    case "run_finished":
      s.status = e.status;
      break;
  }
}
