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
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    started_ms: Date.now(),
    wall_ms: 0,
  };
}

/** Folds one event into the summary, in place. */
export function addEvent(s: RunSummary, e: RunEvent): void {
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
      break;
    case "run_finished":
      s.status = e.status;
      break;
  }
}
