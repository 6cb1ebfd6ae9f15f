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
  /** Episodes finished in an earlier session of a resumed run. */
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
  /** Per task category: graded episodes, successes, and the mean of each metric (fair values included). */
  by_category: Record<
    string,
    { graded: number; successes: number; metrics: Record<string, number> }
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
): RunSummary {
  return {
    run_id: runId,
    run_dir: runDir,
    policy,
    status: "running",
    episodes_total: total,
    episodes_done: 0,
    episodes_failed: 0,
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
}

// Per-summary bookkeeping that is not part of the summary's JSON.
const state = new WeakMap<
  RunSummary,
  { categories: Map<string, string>; counts: Map<string, number> }
>();

/** Folds one event into the summary, in place. */
export function addEvent(s: RunSummary, e: RunEvent): void {
  let own = state.get(s);
  if (!own) state.set(s, own = { categories: new Map(), counts: new Map() });
  const { categories, counts } = own;
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
        const category = categories.get(e.episode_id) ?? "(none)";
        const c = s.by_category[category] ??= {
          graded: 0,
          successes: 0,
          metrics: {},
        };
        for (const [k, v] of Object.entries(e.outcome.metrics)) {
          const n = (counts.get(`${category}\u0000${k}`) ?? 0) + 1;
          counts.set(`${category}\u0000${k}`, n);
          c.metrics[k] = (c.metrics[k] ?? 0) + (v - (c.metrics[k] ?? 0)) / n; // running mean
        }
        c.graded++;
        if (e.outcome.success) c.successes++;
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
