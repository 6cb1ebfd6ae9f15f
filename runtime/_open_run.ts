import { join } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import type { EpisodeFinishedEvent } from "./events.ts";
import { loadTasks, type Task } from "./load_tasks.ts";
import { RunStore, RunStoreError } from "./run_store.ts";
import {
  type ResolvedRunOptions,
  resolveRunOptions,
  type RunOptions,
} from "./run_options.ts";
import { servingOnlyChange } from "./_serving_fields.ts";

/** A run directory open for appending, with its tasks and what an earlier session of it finished. */
export interface OpenRun {
  readonly store: RunStore;
  /** The options in force: a resumed run keeps the split, limit, task ids and samples it started with. */
  readonly opts: Readonly<ResolvedRunOptions>;
  readonly tasks: Task[];
  /** Rows of the split left out by the dataset's filters. */
  readonly excluded: number;
  readonly finished: ReadonlySet<string>;
  readonly attempts: ReadonlyMap<string, number>;
  /** Bytes of a torn last line dropped from events.jsonl. */
  readonly repaired: number;
  /** Finished episodes the grader could not grade: graded again from their records. */
  readonly ungraded: ReadonlyMap<string, EpisodeFinishedEvent>;
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

/** Creates a new run directory with its manifest; the tasks load first, so a bad dataset writes nothing. */
export async function createRun(
  graph: ExecutionGraph,
  sandboxBackend: string,
  opts: Readonly<ResolvedRunOptions>,
): Promise<OpenRun> {
  const { tasks, excluded } = await loadTasks(
    graph.dataset,
    opts.split,
    opts.limit !== undefined ? { limit: opts.limit } : {},
  );
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
  const store = await RunStore.create(opts.outDir, runId, {
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
    sandbox_backend: sandboxBackend,
    graph: redactGraph(graph),
  });
  return {
    store,
    opts,
    tasks,
    excluded,
    finished: new Set(),
    attempts: new Map(),
    repaired: 0,
    ungraded: new Map(),
  };
}

/** Finds the run directory `given` names: a path, or a run id under outDir. */
async function findRunDir(given: string, outDir: string): Promise<string> {
  const exists = (p: string) =>
    Deno.stat(p).then((i) => i.isDirectory, () => false);
  if (await exists(given)) return given;
  if (await exists(join(outDir, given))) return join(outDir, given);
  throw new RunStoreError(
    `Cannot resume run "${given}": no run directory at ${given} or ${
      join(outDir, given)
    }`,
    given,
  );
}

/**
 * Opens a run to finish it: its spec must be the one it started with (where the models are served may
 * change, said through `onNote`), and its tasks are the ones it started with.
 */
export async function resumeRun(
  graph: ExecutionGraph,
  given: string,
  options: RunOptions,
  outDir: string,
): Promise<OpenRun> {
  const dir = await findRunDir(given, outDir);
  const opened = await RunStore.open(dir);
  let opts: Readonly<ResolvedRunOptions>;
  let loaded: { tasks: Task[]; excluded: number };
  try {
    await checkSameSpec(
      graph,
      dir,
      opened.store,
      opened.manifest.graph,
      options,
    );
    const args = opened.manifest.args;
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
    loaded = await loadTasks(
      graph.dataset,
      opts.split,
      opts.limit !== undefined ? { limit: opts.limit } : {},
    );
  } catch (e) {
    await opened.store.close();
    throw e;
  }
  await opened.store.updateManifest({
    status: "running",
    resumed_at: new Date().toISOString(),
  });
  return {
    store: opened.store,
    opts,
    tasks: loaded.tasks,
    excluded: loaded.excluded,
    finished: new Set(opened.state.finished),
    attempts: new Map(opened.state.attempts),
    repaired: opened.state.repairedBytes,
    ungraded: opened.state.ungraded,
  };
}

/** Refuses a spec other than the run's; a change of where models are served only is recorded and said. */
async function checkSameSpec(
  graph: ExecutionGraph,
  dir: string,
  store: RunStore,
  recorded: ExecutionGraph | undefined,
  options: RunOptions,
): Promise<void> {
  if (recorded?.spec_hash === graph.spec_hash) return;
  const before = recorded as Record<string, unknown> | undefined;
  const now = redactGraph(graph) as unknown as Record<string, unknown>;
  const differing = Object.keys(graph).filter((k) =>
    k !== "spec_hash" && k !== "sources" &&
    JSON.stringify(before?.[k]) !== JSON.stringify(now[k])
  );
  const moved = servingOnlyChange(before, redactGraph(graph), differing);
  if (moved === undefined) {
    throw new RunStoreError(
      `Cannot resume run ${dir}: its spec hash ${
        String(recorded?.spec_hash).slice(0, 12)
      } differs from this spec's ${graph.spec_hash.slice(0, 12)}${
        differing.length > 0 ? ` (${differing.join(", ")} changed)` : ""
      }; resume it with the spec it started with, or start a new run`,
      dir,
    );
  }
  if (moved.length > 0) {
    // Only where the models are served changed (a fixed URL, another key variable): the same run.
    await store.updateManifest({ graph: redactGraph(graph) });
    options.onNote?.(
      `mappa: resuming with model${moved.length === 1 ? "" : "s"} ${
        moved.join(", ")
      } served elsewhere (base_url, api_key_env, timeouts or rate limits changed); the run is the same`,
    );
  }
}
