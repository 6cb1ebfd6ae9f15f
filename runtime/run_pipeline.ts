import { join, resolve } from "node:path";
import { comparableMetrics, type ExecutionGraph } from "../dsl/mod.ts";
import type { EpisodeContext } from "./episode_context.ts";
import { loadTasks, type Task } from "./load_tasks.ts";
import type { Coach, ModelClient, Sandbox } from "./ports.ts";
import type { RoleResult } from "./role_result.ts";
import { runEpisodeRoles } from "./run_episode.ts";
import { RunStore, RunStoreError } from "./run_store.ts";
import { addEvent, emptySummary, type RunSummary } from "./run_summary.ts";
import { SlotPool } from "./_slot_pool.ts";
import { createWorkspace } from "./workspace_tracker.ts";
import {
  gradeEpisode,
  type GradeEpisodeOptions,
} from "./graders/grade_episode.ts";
import type { Grader } from "./graders/grade.ts";
import { cappedModels, modelConcurrency } from "./model_concurrency.ts";
import type { EpisodeFinishedEvent, RunEvent } from "./events.ts";
import { regradeEpisode, regradeScratch } from "./regrade_episode.ts";
import { servingOnlyChange } from "./_serving_fields.ts";
import { preflightModels } from "./preflight.ts";
import { foldEarlierEpisodes } from "./_resume_summary.ts";

/** Options for `runPipeline`. */
export interface RunOptions {
  /**
   * Dataset split to run.
   * @default the spec's dataset.default_split
   */
  split?: string;
  /** Run at most this many tasks of the split. */
  limit?: number;
  /** Run only these task ids of the split, in this order (the training loop's sampled batch). */
  taskIds?: readonly string[];
  /**
   * Episodes per task; with more than one, episode ids end in `#<k>` (k from 1) and share the task id.
   * @default 1
   */
  samplesPerTask?: number;
  /** The new run's id instead of `<pipeline>__<seed>__<unix_ts>`; a run with that id must not exist. */
  runId?: string;
  /**
   * Episodes in flight at once.
   * @default 4
   */
  concurrency?: number;
  /**
   * Sandbox executions in flight at once, across episodes.
   * @default 2
   */
  sandboxConcurrency?: number;
  /**
   * Directory that holds run directories.
   * @default "runs"
   */
  outDir?: string;
  /** A run directory (or run id under outDir) to finish: finished episodes are kept, the rest run again. */
  resume?: string;
  /** Whether the policy is a model endpoint or the pipeline's scripted demo policy; recorded in the manifest. */
  policy: "model" | "demo";
  /** Facts about the environment recorded in the manifest (versions, sandbox guarantees). */
  environment?: Record<string, unknown>;
  /** Keep each episode's workspace directory after it finishes (its files are in blobs/ either way). */
  keepWorkspaces?: boolean;
  /** Stops the run cleanly: no new episodes start, running ones are aborted and left for --resume. */
  signal?: AbortSignal;
  /** Scores actions as they are recorded (coaches/); the run waits for it before closing. */
  coach?: Coach;
  /** Called with every event once it is written. */
  onEvent?: (event: RunEvent, summary: Readonly<RunSummary>) => void;
  /** Called with a one-line note the user should see (e.g. a resumed run whose models moved). */
  onNote?: (note: string) => void;
  /** Called once the tasks are loaded, before the first episode. */
  onStart?: (
    info: {
      runId: string;
      runDir: string;
      tasks: number;
      skipped: number;
      excluded: number;
    },
  ) => void;
}

/** The adapters a run needs (the ports of runtime/ports.ts). */
export interface RunDeps {
  readonly model: ModelClient;
  /** Runs tools, and command graders' programs (each in a slot of the run's pool). */
  readonly sandbox: Sandbox;
  /** Outcome grader kinds implemented outside the runtime (e.g. `llm_judge` from coaches/), by name. */
  readonly graders?: Readonly<Record<string, Grader>>;
}

/** `runPipeline`'s options with every default filled. */
export type ResolvedRunOptions =
  & Required<
    Omit<
      RunOptions,
      | "limit"
      | "resume"
      | "signal"
      | "onEvent"
      | "onNote"
      | "onStart"
      | "coach"
      | "taskIds"
      | "runId"
    >
  >
  & {
    limit?: number;
    resume?: string;
    taskIds?: readonly string[];
    runId?: string;
  };

/** Fills defaults and checks the options, with messages naming the value and the fix. */
export function resolveRunOptions(
  graph: ExecutionGraph,
  options: RunOptions,
): Readonly<ResolvedRunOptions> {
  const split = options.split ?? graph.dataset.default_split;
  if (!Object.hasOwn(graph.dataset.splits, split)) {
    throw new RangeError(
      `Cannot run split "${split}": the spec declares ${
        Object.keys(graph.dataset.splits).map((s) => `"${s}"`).join(", ")
      }`,
    );
  }
  const positive = (name: string, v: number | undefined, fallback: number) => {
    const value = v ?? fallback;
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be a whole number >= 1`,
      );
    }
    return value;
  };
  return {
    split,
    ...(options.limit !== undefined
      ? { limit: positive("--limit", options.limit, 1) }
      : {}),
    concurrency: positive("--concurrency", options.concurrency, 4),
    sandboxConcurrency: positive(
      "--sandbox-concurrency",
      options.sandboxConcurrency,
      2,
    ),
    samplesPerTask: positive(
      "samples per task",
      options.samplesPerTask,
      1,
    ),
    ...(options.taskIds !== undefined ? { taskIds: options.taskIds } : {}),
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
    outDir: options.outDir ?? "runs",
    ...(options.resume !== undefined ? { resume: options.resume } : {}),
    policy: options.policy,
    environment: options.environment ?? {},
    keepWorkspaces: options.keepWorkspaces ?? false,
  };
}

async function pool<T>(
  items: readonly T[],
  size: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !signal?.aborted && !failed) {
      try {
        await fn(items[next++]!);
      } catch (e) {
        failed = true; // stop starting episodes, but let running ones finish before the run closes
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(size, items.length) }, worker),
  );
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}

/** The graph as written to disk: credentials and query strings are removed from model URLs. */
function redactGraph(graph: ExecutionGraph): ExecutionGraph {
  const models: Record<string, ExecutionGraph["models"][string]> = {};
  for (const [id, m] of Object.entries(graph.models)) {
    let base = m.base_url;
    if (base) {
      try {
        const url = new URL(base);
        url.username = "";
        url.password = "";
        url.search = "";
        base = url.href;
      } catch { /* not a URL: kept as written */ }
    }
    models[id] = { ...m, ...(base !== undefined ? { base_url: base } : {}) };
  }
  return { ...graph, models };
}

/** One episode to run: a task and, when a task runs several times, which sample this is (from 1). */
interface EpisodeSlot {
  readonly task: Task;
  readonly sample: number;
}

function episodeIdOf(slot: EpisodeSlot): string {
  const base = `${slot.task.split}:${slot.task.id}`;
  return slot.sample > 0 ? `${base}#${slot.sample}` : base;
}

/** The tasks named by `taskIds` in that order, each `samples` times; unknown ids are an error. */
function episodeSlots(
  tasks: readonly Task[],
  taskIds: readonly string[] | undefined,
  samples: number,
): EpisodeSlot[] {
  let chosen: readonly Task[] = tasks;
  if (taskIds !== undefined) {
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const missing = taskIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      throw new RangeError(
        `Cannot run tasks ${
          missing.slice(0, 5).map((id) => `"${id}"`).join(", ")
        }: the split has no task with that id; pick ids from its ${tasks.length} tasks`,
      );
    }
    chosen = taskIds.map((id) => byId.get(id)!);
  }
  return chosen.flatMap((task) =>
    samples === 1
      ? [{ task, sample: 0 }]
      : Array.from({ length: samples }, (_, k) => ({ task, sample: k + 1 }))
  );
}

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
  let opts = resolveRunOptions(graph, options);
  // Every endpoint the run needs answers before anything is written: a wrong URL, key or model name
  // stops the run here, in one line per model, instead of failing every action.
  for (
    const note of await preflightModels(graph, deps.model, {
      coached: options.coach !== undefined,
    })
  ) options.onNote?.(note);
  let store: RunStore;
  let finished = new Set<string>();
  let attempts = new Map<string, number>();
  let repaired = 0;
  let ungraded: ReadonlyMap<string, EpisodeFinishedEvent> = new Map();
  let tasks: Task[];
  let excluded: number;
  if (opts.resume !== undefined) {
    const given = opts.resume;
    const exists = (p: string) =>
      Deno.stat(p).then((i) => i.isDirectory, () => false);
    const dir = await exists(given)
      ? given
      : await exists(join(opts.outDir, given))
      ? join(opts.outDir, given)
      : undefined;
    if (dir === undefined) {
      throw new RunStoreError(
        `Cannot resume run "${given}": no run directory at ${given} or ${
          join(opts.outDir, given)
        }`,
        given,
      );
    }
    const opened = await RunStore.open(dir);
    try {
      const manifestGraph = opened.manifest.graph as
        | Record<string, unknown>
        | undefined;
      const differing = manifestGraph?.spec_hash === graph.spec_hash
        ? []
        : Object.keys(graph).filter((k) =>
          k !== "spec_hash" && k !== "sources" &&
          JSON.stringify(manifestGraph?.[k]) !==
            JSON.stringify(
              (redactGraph(graph) as unknown as Record<string, unknown>)[k],
            )
        );
      const moved = manifestGraph?.spec_hash === graph.spec_hash
        ? []
        : servingOnlyChange(manifestGraph, redactGraph(graph), differing);
      if (moved !== undefined && moved.length > 0) {
        // Only where the models are served changed (a fixed URL, another key variable): the same run.
        await opened.store.updateManifest({ graph: redactGraph(graph) });
        options.onNote?.(
          `mappa: resuming with model${moved.length === 1 ? "" : "s"} ${
            moved.join(", ")
          } served elsewhere (base_url, api_key_env, timeouts or rate limits changed); the run is the same`,
        );
      }
      if (moved === undefined) {
        throw new RunStoreError(
          `Cannot resume run ${dir}: its spec hash ${
            String(manifestGraph?.spec_hash).slice(0, 12)
          } differs from this spec's ${graph.spec_hash.slice(0, 12)}${
            differing.length > 0 ? ` (${differing.join(", ")} changed)` : ""
          }; resume it with the spec it started with, or start a new run`,
          dir,
        );
      }
      const args = opened.manifest.args as
        | {
          split?: string;
          limit?: number;
          task_ids?: string[];
          samples_per_task?: number;
        }
        | undefined;
      const changed = [
        options.split !== undefined && options.split !== args?.split
          ? `split "${args?.split}"`
          : undefined,
        options.limit !== undefined && options.limit !== args?.limit
          ? `limit ${args?.limit ?? "none"}`
          : undefined,
      ].filter((x) => x !== undefined);
      if (changed.length > 0) {
        throw new RangeError(
          `Cannot change the tasks of run ${dir} when resuming: it runs ${
            changed.join(" and ")
          }; leave out --split and --limit`,
        );
      }
      opts = resolveRunOptions(graph, {
        ...options,
        ...(args?.split ? { split: args.split } : {}),
        ...(args?.limit !== undefined ? { limit: args.limit } : {}),
        ...(args?.task_ids !== undefined ? { taskIds: args.task_ids } : {}),
        ...(args?.samples_per_task !== undefined
          ? { samplesPerTask: args.samples_per_task }
          : {}),
      });
      ({ tasks, excluded } = await loadTasks(
        graph.dataset,
        opts.split,
        opts.limit !== undefined ? { limit: opts.limit } : {},
      ));
    } catch (e) {
      await opened.store.close();
      throw e;
    }
    store = opened.store;
    finished = new Set(opened.state.finished);
    attempts = new Map(opened.state.attempts);
    repaired = opened.state.repairedBytes;
    ungraded = opened.state.ungraded;
    await store.updateManifest({
      status: "running",
      resumed_at: new Date().toISOString(),
    });
  } else {
    // Load the tasks first: a bad dataset fails before any run directory exists.
    ({ tasks, excluded } = await loadTasks(
      graph.dataset,
      opts.split,
      opts.limit !== undefined ? { limit: opts.limit } : {},
    ));
    const seed = graph.train?.seed ?? 0;
    // STYLE.md §9: <pipeline>__<seed>__<unix_ts>; a second run in the same second gets a suffix.
    const base = opts.runId ??
      `${graph.name}__${seed}__${Math.floor(Date.now() / 1000)}`;
    let runId = base;
    for (
      let n = 2;
      opts.runId === undefined &&
      await Deno.stat(join(opts.outDir, runId)).then(() => true, () => false);
      n++
    ) {
      runId = `${base}_${n}`;
    }
    store = await RunStore.create(opts.outDir, runId, {
      run_id: runId,
      created_at: new Date().toISOString(),
      status: "running",
      policy: opts.policy,
      policy_note: opts.policy === "demo"
        ? "scripted replies (the pipeline's demo policy) answered at least one model: they are not a model's"
        : "replies come from the model endpoints in graph.models",
      spec_file: graph.spec_file,
      spec_hash: graph.spec_hash,
      args: {
        split: opts.split,
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.taskIds !== undefined ? { task_ids: [...opts.taskIds] } : {}),
        ...(opts.samplesPerTask > 1
          ? { samples_per_task: opts.samplesPerTask }
          : {}),
      },
      environment: opts.environment,
      sandbox_backend: deps.sandbox.backend,
      graph: redactGraph(graph),
    });
  }

  const episodes = episodeSlots(tasks, opts.taskIds, opts.samplesPerTask);
  const todo = episodes.filter((t) => !finished.has(episodeIdOf(t)));
  // Finished, but the grader could not grade them: graded again from their records, not run again.
  const regrade = episodes.filter((t) => ungraded.has(episodeIdOf(t)));
  const summary = emptySummary(
    store.runId,
    store.dir,
    opts.policy,
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
  if (opts.resume !== undefined) {
    // The summary covers the whole run: the episodes finished before resuming count in it as they ended.
    await foldEarlierEpisodes(summary, store.dir, {
      finished,
      attempts,
      regraded: new Set(regrade.map(episodeIdOf)),
    });
  }
  await options.coach?.start({
    dir: store.dir,
    run_id: store.runId,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const coaching = new Set<Promise<void>>();
  const coachErrors: string[] = [];
  store.listen((e) => {
    addEvent(summary, e);
    options.onEvent?.(e, summary);
    if (options.coach && e.kind !== "run_finished") {
      const p: Promise<void> = options.coach.observe(e).catch((err) => {
        coachErrors.push(err instanceof Error ? err.message : String(err));
      }).finally(() => coaching.delete(p));
      coaching.add(p);
    }
  });
  options.onStart?.({
    runId: store.runId,
    runDir: store.dir,
    tasks: episodes.length,
    skipped: summary.episodes_skipped,
    excluded,
  });
  // A model's default concurrency follows the run; an explicit lower cap is said, not silently obeyed.
  const inFlight = Math.min(opts.concurrency, todo.length);
  const sized = modelConcurrency(graph, {
    episodes: inFlight,
    coached: options.coach !== undefined,
  });
  deps.model.ensureConcurrency?.(
    Object.fromEntries(sized.map((m) => [m.model, m.limit])),
  );
  const capped = inFlight > 0 ? cappedModels(sized, inFlight) : [];
  await store.append({
    kind: "run_started",
    role: null,
    resumed: opts.resume !== undefined,
    ...(repaired > 0 ? { repaired_bytes: repaired } : {}),
    ...(capped.length > 0 ? { capped_models: capped } : {}),
  });

  const slots = new SlotPool(opts.sandboxConcurrency);
  const toolSlots = new Map<string, SlotPool>();
  for (const [id, tool] of Object.entries(graph.tools)) {
    if (tool.max_concurrency !== undefined) {
      toolSlots.set(id, new SlotPool(tool.max_concurrency));
    }
  }
  // Workspaces live outside the run directory, in a folder every sandbox uid can traverse: the run
  // directory may sit under a private (0700) folder. Their files are copied into blobs/ as they change.
  const workRoot = await Deno.makeTempDir({
    prefix: `mappa-${store.runId.slice(0, 40)}-`,
  });
  await Deno.chmod(workRoot, 0o711);
  // Grading runs command graders in the sandbox, in slots of the same pool as the tools.
  const grading = (episodeId: string): GradeEpisodeOptions => ({
    sandbox: deps.sandbox,
    withSlot: (fn) => slots.use(fn),
    episodeId,
    ...(deps.graders ? { graders: deps.graders } : {}),
  });
  for (const slot of regrade) {
    if (options.signal?.aborted) break;
    const id = episodeIdOf(slot);
    await regradeEpisode(graph, {
      task: slot.task,
      finished: ungraded.get(id)!,
      store,
      scratch: regradeScratch(workRoot, id),
      grading: grading(id),
    });
  }
  let actionCounter = 0;
  const runOne = async (slot: EpisodeSlot) => {
    const task = slot.task;
    const episodeId = episodeIdOf(slot);
    const attempt = (attempts.get(episodeId) ?? 0) + 1;
    const workspaceDir = resolve(
      workRoot,
      `${task.split}-${task.index}${
        slot.sample > 0 ? `s${slot.sample}` : ""
      }-a${attempt}`,
    );
    const started = Date.now();
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      let workspace: Awaited<ReturnType<typeof createWorkspace>> | undefined;
      let error: string | undefined;
      try {
        workspace = await createWorkspace(workspaceDir, task.files, store);
      } catch (e) {
        // A task whose input files cannot be copied fails alone; the run goes on.
        error = `Cannot prepare the workspace of task "${task.id}": ${
          e instanceof Error ? e.message : String(e)
        }`;
      }
      await store.append({
        kind: "episode_started",
        role: null,
        episode_id: episodeId,
        attempt,
        task_id: task.id,
        split: task.split,
        index: task.index,
        category: task.category,
        workspace: workspaceDir,
        task: { inputs: { ...task.inputs }, answer: task.answer ?? null },
        ...(workspace ? { files: { ...workspace.seeded } } : {}),
      });
      let local = 0;
      const failures = { model: 0 };
      const ctx: EpisodeContext = {
        graph,
        task,
        episodeId,
        attempt,
        workspaceDir,
        workspace: workspace ??
          {
            files: () => Promise.resolve([]),
            track: () => Promise.reject(new Error(error)),
          },
        model: deps.model,
        sandbox: deps.sandbox,
        sandboxSlots: slots,
        toolSlots,
        store,
        results: new Map<string, RoleResult>(),
        nextActionIndex: () => (actionCounter++, local++),
        failures,
        signal: controller.signal,
      };
      if (workspace) {
        try {
          await runEpisodeRoles(ctx);
        } catch (e) {
          error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        }
      }
      // An aborted episode gets no episode_finished: --resume runs it again as a new attempt.
      if (controller.signal.aborted) return;
      const outputs: Record<string, Record<string, string | null>> = {};
      for (const [role, r] of ctx.results) outputs[role] = { ...r.outputs };
      // A runtime failure is not graded: --resume runs the episode again.
      const outcome = error === undefined && workspace
        ? await gradeEpisode(
          { graph, task, outputs, workspace: workspaceDir },
          grading(episodeId),
        )
        : undefined;
      await store.append({
        kind: "episode_finished",
        role: null,
        episode_id: episodeId,
        attempt,
        status: error === undefined ? "completed" : "failed",
        ...(error !== undefined ? { error } : {}),
        actions: local,
        model_failures: failures.model,
        wall_ms: Date.now() - started,
        outputs,
        files: workspace ? await workspace.final() : {},
        ...(outcome ? { outcome } : {}),
      });
      await store.sync();
    } finally {
      options.signal?.removeEventListener("abort", abort);
      if (!opts.keepWorkspaces) {
        await Deno.remove(workspaceDir, { recursive: true }).catch(() => {});
      }
    }
  };

  let status: "completed" | "interrupted" | "error" = "completed";
  let failure: string | undefined;
  try {
    await pool(todo, opts.concurrency, options.signal, runOne);
    if (options.signal?.aborted) status = "interrupted";
  } catch (e) {
    status = "error";
    failure = e instanceof Error ? e.message : String(e);
  }
  if (!opts.keepWorkspaces) {
    await Deno.remove(workRoot, { recursive: true }).catch(() => {});
  }
  if (options.coach) {
    while (coaching.size > 0) await Promise.all([...coaching]);
    await options.coach.finish().catch((err) =>
      coachErrors.push(err instanceof Error ? err.message : String(err))
    );
    if (coachErrors.length > 0 && status === "completed") {
      status = "error";
      failure = `Cannot finish scoring: ${coachErrors[0]}`;
    }
  }
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
  if (status === "error") {
    throw new Error(`Cannot finish run ${store.runId}: ${failure}`);
  }
  return summary;
}
