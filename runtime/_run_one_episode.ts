import { resolve } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import type { EpisodeContext } from "./episode_context.ts";
import { episodeIdOf, type EpisodeSlot } from "./_episode_slots.ts";
import {
  gradeEpisode,
  type GradeEpisodeOptions,
} from "./graders/grade_episode.ts";
import type { ModelClient, Sandbox } from "./ports.ts";
import type { RoleResult } from "./role_result.ts";
import { runEpisodeRoles } from "./run_episode.ts";
import type { RunStore } from "./run_store.ts";
import { SlotPool } from "./_slot_pool.ts";
import { createWorkspace, type EpisodeWorkspace } from "./workspace_tracker.ts";

/** What every episode of a run shares. */
export interface EpisodeRunner {
  readonly graph: ExecutionGraph;
  readonly model: ModelClient;
  readonly sandbox: Sandbox;
  readonly store: RunStore;
  /** The run's sandbox slots (tools and command graders). */
  readonly slots: SlotPool;
  readonly toolSlots: ReadonlyMap<string, SlotPool>;
  /** Where episodes' workspaces are made (outside the run directory). */
  readonly workRoot: string;
  readonly keepWorkspaces: boolean;
  /** Highest attempt started per episode in earlier sessions. */
  readonly attempts: ReadonlyMap<string, number>;
  readonly grading: (episodeId: string) => GradeEpisodeOptions;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One episode: open it (workspace, `episode_started`) → schedule its roles → grade → close it
 * (`episode_finished`). An aborted episode is not closed: --resume runs it again as a new attempt.
 */
export async function runOneEpisode(
  slot: EpisodeSlot,
  run: EpisodeRunner,
): Promise<void> {
  const { task } = slot;
  const episodeId = episodeIdOf(slot);
  const attempt = (run.attempts.get(episodeId) ?? 0) + 1;
  const workspaceDir = resolve(
    run.workRoot,
    `${task.split}-${task.index}${
      slot.sample > 0 ? `s${slot.sample}` : ""
    }-a${attempt}`,
  );
  const started = Date.now();
  const controller = new AbortController();
  const abort = () => controller.abort();
  run.signal?.addEventListener("abort", abort, { once: true });
  try {
    const episode = await openEpisode(
      slot,
      { episodeId, attempt, workspaceDir, signal: controller.signal },
      run,
    );
    let error = episode.error;
    if (episode.workspace) {
      try {
        await runEpisodeRoles(episode.ctx);
      } catch (e) {
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    }
    if (controller.signal.aborted) return;
    const outputs: Record<string, Record<string, string | null>> = {};
    for (const [role, r] of episode.ctx.results) {
      outputs[role] = { ...r.outputs };
    }
    // A runtime failure is not graded: --resume runs the episode again.
    const outcome = error === undefined && episode.workspace
      ? await gradeEpisode(
        {
          graph: run.graph,
          task: slot.task,
          outputs,
          workspace: workspaceDir,
        },
        run.grading(episodeId),
      )
      : undefined;
    await closeEpisode(run.store, episode, {
      error,
      outputs,
      outcome,
      started,
    });
  } finally {
    run.signal?.removeEventListener("abort", abort);
    if (!run.keepWorkspaces) {
      await Deno.remove(workspaceDir, { recursive: true }).catch(() => {});
    }
  }
}

interface OpenEpisode {
  readonly ctx: EpisodeContext & { readonly actions: () => number };
  /** Absent when the task's files could not be copied in (`error` says why). */
  readonly workspace?: EpisodeWorkspace;
  readonly error?: string;
}

/** Makes the episode's workspace from the task's files and records `episode_started`. */
async function openEpisode(
  { task }: EpisodeSlot,
  { episodeId, attempt, workspaceDir, signal }: {
    episodeId: string;
    attempt: number;
    workspaceDir: string;
    signal: AbortSignal;
  },
  run: EpisodeRunner,
): Promise<OpenEpisode> {
  let workspace: EpisodeWorkspace | undefined;
  let error: string | undefined;
  try {
    workspace = await createWorkspace(workspaceDir, task.files, run.store);
  } catch (e) {
    // A task whose input files cannot be copied fails alone; the run goes on.
    error = `Cannot prepare the workspace of task "${task.id}": ${
      e instanceof Error ? e.message : String(e)
    }`;
  }
  await run.store.append({
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
  let actions = 0;
  const ctx = {
    graph: run.graph,
    task,
    episodeId,
    attempt,
    workspaceDir,
    workspace: workspace ??
      {
        files: () => Promise.resolve([]),
        track: () => Promise.reject(new Error(error)),
      },
    model: run.model,
    sandbox: run.sandbox,
    sandboxSlots: run.slots,
    toolSlots: run.toolSlots,
    store: run.store,
    results: new Map<string, RoleResult>(),
    nextActionIndex: () => actions++,
    actions: () => actions,
    failures: { model: 0 },
    signal,
  };
  return {
    ctx,
    ...(workspace ? { workspace } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

/** Records `episode_finished` with the episode's outputs, final files and grade, and syncs the log. */
async function closeEpisode(
  store: RunStore,
  episode: OpenEpisode,
  end: {
    error: string | undefined;
    outputs: Record<string, Record<string, string | null>>;
    outcome: Awaited<ReturnType<typeof gradeEpisode>> | undefined;
    started: number;
  },
): Promise<void> {
  const { ctx, workspace } = episode;
  await store.append({
    kind: "episode_finished",
    role: null,
    episode_id: ctx.episodeId,
    attempt: ctx.attempt,
    status: end.error === undefined ? "completed" : "failed",
    ...(end.error !== undefined ? { error: end.error } : {}),
    actions: ctx.actions(),
    model_failures: ctx.failures.model,
    wall_ms: Date.now() - end.started,
    outputs: end.outputs,
    files: workspace ? await workspace.final() : {},
    ...(end.outcome ? { outcome: end.outcome } : {}),
  });
  await store.sync();
}

/**
 * What a run's episodes share: the sandbox slot pools and a workspace root outside the run directory,
 * in a folder every sandbox uid can traverse (the run directory may sit under a private 0700 folder).
 */
export async function prepareEpisodes(
  graph: ExecutionGraph,
  deps: {
    readonly model: ModelClient;
    readonly sandbox: Sandbox;
    readonly graders?: GradeEpisodeOptions["graders"];
  },
  run: {
    readonly store: RunStore;
    readonly attempts: ReadonlyMap<string, number>;
    readonly sandboxConcurrency: number;
    readonly keepWorkspaces: boolean;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<EpisodeRunner> {
  const slots = new SlotPool(run.sandboxConcurrency);
  const toolSlots = new Map<string, SlotPool>();
  for (const [id, tool] of Object.entries(graph.tools)) {
    if (tool.max_concurrency !== undefined) {
      toolSlots.set(id, new SlotPool(tool.max_concurrency));
    }
  }
  const workRoot = await Deno.makeTempDir({
    prefix: `mappa-${run.store.runId.slice(0, 40)}-`,
  });
  await Deno.chmod(workRoot, 0o711);
  return {
    graph,
    model: deps.model,
    sandbox: deps.sandbox,
    store: run.store,
    slots,
    toolSlots,
    workRoot,
    keepWorkspaces: run.keepWorkspaces,
    attempts: run.attempts,
    // Grading runs command graders in the sandbox, in slots of the same pool as the tools.
    grading: (episodeId) => ({
      sandbox: deps.sandbox,
      withSlot: (fn) => slots.use(fn),
      episodeId,
      ...(deps.graders ? { graders: deps.graders } : {}),
    }),
    signal: run.signal,
  };
}
