import type { Coach, Grader, ModelClient, Sandbox } from "../runtime/mod.ts";
import type { CoachNoise } from "./coach_noise.ts";
import type { MetricsLine } from "./metrics.ts";
import type { TrainLine } from "./protocol.ts";
import type { TrainRun } from "./train_run.ts";

/** Options of {@linkcode trainPipeline}. */
export interface TrainOptions {
  /** `local` starts the Python trainer as a subprocess; else the base URL of a running one. @default the spec's train.trainer.url */
  readonly trainer?: string;
  /** Steps to reach (a resumed run continues up to it). @default the spec's train.steps */
  readonly steps?: number;
  /** A training run directory (or its id under outDir) to continue. */
  readonly resume?: string;
  /** @default "runs" */
  readonly outDir?: string;
  /** Overrides train.reward.outcome_weight: 1 trains on the shared outcome reward only. */
  readonly outcomeWeight?: number;
  /** Overrides train.seed (task order, rollout sampling, trainer init). */
  readonly seed?: number;
  /** A study knob: corrupts the coach's verdicts before they become rewards (recorded in train.json). */
  readonly coachNoise?: Omit<CoachNoise, "seed"> & { seed?: number };
  /** Episodes in flight at once. @default a step's episodes (tasks_per_step × samples_per_task), at most 64 */
  readonly concurrency?: number;
  /** Facts about the environment recorded in each rollout run's manifest. */
  readonly environment?: Record<string, unknown>;
  readonly signal?: AbortSignal;
  /** Called with every metrics line once written (a promise it returns is awaited), and with notes. */
  readonly onLine?: (line: MetricsLine, run: TrainRun) => void;
  readonly onNote?: (note: string) => void;
  /** Called with each progress line of a policy update (one per optimizer step), as the trainer sends it. */
  readonly onTrainProgress?: (
    role: string,
    line: Extract<TrainLine, { type: "progress" }>,
  ) => void;
}

/** The adapters a training run needs: the base model client (frozen roles, the judge), a sandbox, a coach per rollout. */
export interface TrainDeps {
  readonly model: ModelClient;
  readonly sandbox: Sandbox;
  /** A fresh coach for each rollout run, or undefined when the spec has none. */
  readonly coach?: () => Coach;
  /** Grader kinds beyond the built-in ones (e.g. `llm_judge`), as `runPipeline` takes them. */
  readonly graders?: Readonly<Record<string, Grader>>;
}

/** How a training run ended. */
export interface TrainResult {
  readonly dir: string;
  readonly steps: number;
  readonly status: "completed" | "interrupted";
  readonly versions: Record<string, number>;
}
