import { join } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import type { ModelClient } from "../runtime/mod.ts";
import type { RunEpisodes } from "./_rollout_runs.ts";
import { readScoredRun } from "./_scored_run.ts";
import type { MetricsLine } from "./metrics.ts";
import { categoryStats, outcomeStats, roleScores } from "./run_stats.ts";
import type { TrainRun } from "./train_run.ts";

/** A step number as run directories name it: `0007`. */
export function padStep(n: number): string {
  return String(n).padStart(4, "0");
}

/** Whether `step` is evaluated: before the first step, every `eval.every` steps, and the last. */
export function evalDue(run: TrainRun, step: number): boolean {
  return step === 0 || step % run.train.eval.every === 0 ||
    step === run.train.steps;
}

/**
 * Runs every `eval.splits` split with the current policies (`evals/step_NNNN_<split>/`) and appends an
 * `eval` metrics line each; a split evaluated earlier at this step is skipped. False when interrupted.
 */
export async function evaluatePolicies(
  graph: ExecutionGraph,
  step: number,
  ctx: {
    readonly run: TrainRun;
    readonly runEpisodes: RunEpisodes;
    readonly evaluator: ModelClient;
    readonly versions: Readonly<Record<string, number>>;
    readonly onLine?: ((line: MetricsLine, run: TrainRun) => void) | undefined;
  },
): Promise<boolean> {
  const { run } = ctx;
  const evals = run.train.eval;
  for (const split of evals.splits) {
    if (run.evalsDone.has(`${step}:${split}`)) continue;
    const started = performance.now();
    const runId = `step_${padStep(step)}_${split}`;
    const summary = await ctx.runEpisodes(
      runId,
      join(run.dir, "evals"),
      ctx.evaluator,
      {
        split,
        samples: evals.samples_per_task,
        coach: evals.coach,
        ...(evals.limit !== undefined ? { limit: evals.limit } : {}),
      },
    );
    if (summary.status === "interrupted") return false;
    const { events, verdicts } = await readScoredRun(summary.run_dir, graph);
    await run.append({
      type: "eval",
      step,
      ts: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      split,
      run: `evals/${runId}`,
      versions: { ...ctx.versions },
      outcome: outcomeStats(events, graph.outcome),
      roles: roleScores(verdicts),
      categories: categoryStats(events, verdicts),
    }, ctx.onLine);
  }
  return true;
}
