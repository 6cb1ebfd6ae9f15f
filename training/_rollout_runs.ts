import { join } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import {
  MANIFEST_FILE,
  modelCapMessage,
  type ModelClient,
  runPipeline,
  type RunSummary,
} from "../runtime/mod.ts";
import { longest } from "./_rollout_engine.ts";
import type { RoleSamples } from "./samples.ts";
import type { TrainDeps, TrainOptions } from "./train_options.ts";
import type { TrainRun } from "./train_run.ts";
import type { VllmEngine } from "./vllm_engine.ts";

/** What one run of episodes (a step's rollouts or an evaluation) runs. */
export interface EpisodeRunSpec {
  readonly split: string;
  readonly taskIds?: string[];
  readonly limit?: number;
  readonly samples: number;
  /** Whether a coach scores the run. */
  readonly coach: boolean;
}

/** Runs episodes into `<dir>/<runId>/` with `model`, finishing that run if an earlier session started it. */
export type RunEpisodes = (
  runId: string,
  dir: string,
  model: ModelClient,
  spec: EpisodeRunSpec,
) => Promise<RunSummary>;

/**
 * The training run's way to run episodes: an ordinary run each time (so rescore, compare and report
 * work on it), with the engine synced to `versions` (read live) first and its failure rethrown after.
 */
export function episodeRunner(
  graph: ExecutionGraph,
  deps: TrainDeps,
  ctx: {
    readonly run: TrainRun;
    readonly engine: VllmEngine | undefined;
    readonly versions: Readonly<Record<string, number>>;
    readonly concurrency: number;
    readonly options: TrainOptions;
    readonly note: (note: string) => void;
  },
): RunEpisodes {
  const { engine, options, note } = ctx;
  const capsNoted = new Set<string>();
  return async (runId, dir, model, extra) => {
    const exists = await Deno.stat(join(dir, runId, MANIFEST_FILE)).then(
      () => true,
      () => false,
    );
    // A run killed while its directory was being created has no manifest and nothing recorded yet.
    if (!exists) {
      await Deno.remove(join(dir, runId), { recursive: true }).catch(() => {});
    }
    const coach = extra.coach ? deps.coach?.() : undefined;
    await engine?.sync(ctx.versions);
    const signals = [options.signal, engine?.signal].filter((
      s,
    ): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const summary = await runPipeline(graph, {
      model,
      sandbox: deps.sandbox,
      ...(deps.graders ? { graders: deps.graders } : {}),
    }, {
      policy: "model",
      outDir: dir,
      concurrency: ctx.concurrency,
      onEvent: (e) => {
        if (e.kind !== "run_started") return;
        for (const cap of e.capped_models ?? []) {
          if (capsNoted.has(cap.model)) continue;
          capsNoted.add(cap.model);
          note(modelCapMessage(cap));
        }
      },
      environment: { ...(options.environment ?? {}), training_run: ctx.run.id },
      ...(coach ? { coach } : {}),
      ...(signal ? { signal } : {}),
      ...(exists ? { resume: join(dir, runId) } : {
        runId,
        split: extra.split,
        samplesPerTask: extra.samples,
        ...(extra.taskIds ? { taskIds: extra.taskIds } : {}),
        ...(extra.limit !== undefined ? { limit: extra.limit } : {}),
      }),
    });
    // The engine stopped the rollouts (a restarted engine failed its re-check, a template mismatch):
    // the episodes it aborted are left for --resume.
    if (engine?.failure) throw engine.failure;
    return summary;
  };
}

/** Gives the engine each role's longest sample of the step, to verify the next version it serves. */
export function setProbes(
  engine: VllmEngine | undefined,
  built: Readonly<Record<string, RoleSamples>>,
  roles: readonly string[],
): void {
  for (const role of roles) {
    const probe = longest(built[role]!.samples);
    if (probe) {
      engine?.setProbe(
        role,
        probe.prompt_token_ids,
        probe.completion_token_ids,
      );
    }
  }
}
