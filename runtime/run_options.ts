import type { ExecutionGraph } from "../dsl/mod.ts";
import type { RunEvent } from "./events.ts";
import type { Grader } from "./graders/grade.ts";
import type { Coach, ModelClient, Sandbox } from "./ports.ts";
import type { RunSummary } from "./run_summary.ts";

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
