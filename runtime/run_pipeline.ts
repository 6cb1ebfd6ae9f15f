import { comparableMetrics, type ExecutionGraph } from "../dsl/mod.ts";
import { foldEarlierEpisodes } from "./_resume_summary.ts";
import { watchRun } from "./_coach_run.ts";
import {
  episodeIdOf,
  type EpisodeSlot,
  episodeSlots,
} from "./_episode_slots.ts";
import { createRun, type OpenRun, resumeRun } from "./_open_run.ts";
import { prepareEpisodes, runOneEpisode } from "./_run_one_episode.ts";
import { runPool } from "./_run_pool.ts";
import { cappedModels, modelConcurrency } from "./model_concurrency.ts";
import { preflightModels } from "./preflight.ts";
import { regradeEpisode, regradeScratch } from "./regrade_episode.ts";
import {
  resolveRunOptions,
  type RunDeps,
  type RunOptions,
} from "./run_options.ts";
import type { RunStore } from "./run_store.ts";
import { emptySummary, type RunSummary } from "./run_summary.ts";

export {
  type ResolvedRunOptions,
  resolveRunOptions,
  type RunDeps,
  type RunOptions,
} from "./run_options.ts";

/**
 * Runs a compiled pipeline over a dataset split: episodes concurrently, roles in graph order, every action
 * recorded in `runs/<run_id>/`. Resumable: `resume` finishes a run without redoing finished episodes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "../dsl/mod.ts";
 * import { loadModelScript } from "./llm/model_script.ts";
 * import { ScriptedModelClient } from "./llm/scripted_client.ts";
 * import { runPipeline } from "./run_pipeline.ts";
 * import { BwrapSandbox } from "./sandbox/bwrap_sandbox.ts";
 * const compiled = compileFile("pipelines/math.yaml");
 * assert(compiled.ok);
 * const model = new ScriptedModelClient(await loadModelScript("pipelines/demo/math.yaml"));
 * const summary = await runPipeline(compiled.graph, { model, sandbox: await BwrapSandbox.create() }, {
 *   policy: "demo",
 *   limit: 1,
 *   outDir: await Deno.makeTempDir(),
 * });
 * assert.equal(summary.episodes_done, 1);
 * ```
 */
export async function runPipeline(
  graph: ExecutionGraph,
  deps: RunDeps,
  options: RunOptions,
): Promise<RunSummary> {
  const resolved = resolveRunOptions(graph, options);
  // Every endpoint the run needs answers before anything is written: a wrong URL, key or model name
  // stops the run here, in one line per model, instead of failing every action.
  for (
    const note of await preflightModels(graph, deps.model, {
      coached: options.coach !== undefined,
    })
  ) options.onNote?.(note);
  const run = resolved.resume !== undefined
    ? await resumeRun(graph, resolved.resume, options, resolved.outDir)
    : await createRun(graph, deps.sandbox.backend, resolved);
  const { store, opts } = run;

  const episodes = episodeSlots(run.tasks, opts.taskIds, opts.samplesPerTask);
  const todo = episodes.filter((t) => !run.finished.has(episodeIdOf(t)));
  // Finished, but the grader could not grade them: graded again from their records, not run again.
  const regrade = episodes.filter((t) => run.ungraded.has(episodeIdOf(t)));
  const summary = await startSummary(graph, run, { episodes, todo, regrade });
  const watched = await watchRun(store, summary, options);
  options.onStart?.({
    runId: store.runId,
    runDir: store.dir,
    tasks: episodes.length,
    skipped: summary.episodes_skipped,
    excluded: run.excluded,
  });
  await recordRunStarted(graph, deps, run, {
    episodes: todo.length,
    coached: options.coach !== undefined,
  });

  const runner = await prepareEpisodes(graph, deps, {
    store,
    attempts: run.attempts,
    sandboxConcurrency: opts.sandboxConcurrency,
    keepWorkspaces: opts.keepWorkspaces,
    signal: options.signal,
  });
  for (const slot of regrade) {
    if (options.signal?.aborted) break;
    const id = episodeIdOf(slot);
    await regradeEpisode(graph, {
      task: slot.task,
      finished: run.ungraded.get(id)!,
      store,
      scratch: regradeScratch(runner.workRoot, id),
      grading: runner.grading(id),
    });
  }
  let status: "completed" | "interrupted" | "error" = "completed";
  let failure: string | undefined;
  try {
    await runPool(
      todo,
      opts.concurrency,
      options.signal,
      (slot) => runOneEpisode(slot, runner),
    );
    if (options.signal?.aborted) status = "interrupted";
  } catch (e) {
    status = "error";
    failure = e instanceof Error ? e.message : String(e);
  }
  if (!opts.keepWorkspaces) {
    await Deno.remove(runner.workRoot, { recursive: true }).catch(() => {});
  }
  const coachError = await watched.finish();
  if (coachError !== undefined && status === "completed") {
    status = "error";
    failure = `Cannot finish scoring: ${coachError}`;
  }
  await closeRun(store, summary, { status, failure });
  if (status === "error") {
    throw new Error(`Cannot finish run ${store.runId}: ${failure}`);
  }
  return summary;
}

/** The run's summary, covering episodes an earlier session finished as they ended. */
async function startSummary(
  graph: ExecutionGraph,
  run: OpenRun,
  { episodes, todo, regrade }: {
    episodes: readonly EpisodeSlot[];
    todo: readonly EpisodeSlot[];
    regrade: readonly EpisodeSlot[];
  },
): Promise<RunSummary> {
  const summary = emptySummary(
    run.store.runId,
    run.store.dir,
    run.opts.policy,
    episodes.length,
    episodes.length - todo.length - regrade.length,
    graph.outcome
      ? {
        outcome: {
          grader: graph.outcome.grader,
          fair: graph.outcome.fair,
          comparable: comparableMetrics(graph.outcome),
        },
      }
      : {},
  );
  if (run.opts.resume !== undefined) {
    await foldEarlierEpisodes(summary, run.store.dir, {
      finished: run.finished,
      attempts: run.attempts,
      regraded: new Set(regrade.map(episodeIdOf)),
    });
  }
  return summary;
}

/** Sizes each model's concurrency to the episodes in flight and records `run_started`. */
async function recordRunStarted(
  graph: ExecutionGraph,
  deps: RunDeps,
  run: OpenRun,
  { episodes, coached }: { episodes: number; coached: boolean },
): Promise<void> {
  // A model's default concurrency follows the run; an explicit lower cap is said, not silently obeyed.
  const inFlight = Math.min(run.opts.concurrency, episodes);
  const sized = modelConcurrency(graph, { episodes: inFlight, coached });
  deps.model.ensureConcurrency?.(
    Object.fromEntries(sized.map((m) => [m.model, m.limit])),
  );
  const capped = inFlight > 0 ? cappedModels(sized, inFlight) : [];
  await run.store.append({
    kind: "run_started",
    role: null,
    resumed: run.opts.resume !== undefined,
    ...(run.repaired > 0 ? { repaired_bytes: run.repaired } : {}),
    ...(capped.length > 0 ? { capped_models: capped } : {}),
  });
}

/** Records `run_finished`, writes the closing status and summary into the manifest and closes the log. */
async function closeRun(
  store: RunStore,
  summary: RunSummary,
  { status, failure }: {
    status: "completed" | "interrupted" | "error";
    failure: string | undefined;
  },
): Promise<void> {
  await store.append({
    kind: "run_finished",
    role: null,
    status,
    episodes: summary.episodes_done + summary.episodes_failed,
    ...(failure !== undefined ? { error: failure } : {}),
  });
  await store.updateManifest({
    status,
    finished_at: new Date().toISOString(),
    summary,
  });
  await store.close();
}
