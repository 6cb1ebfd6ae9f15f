import type { ExecutionGraph } from "../../dsl/mod.ts";
import type { Task } from "../load_tasks.ts";
import type { Sandbox } from "../ports.ts";

/** What a grader reads at the end of an episode. */
export interface GradeInput {
  readonly graph: ExecutionGraph;
  readonly task: Task;
  /** Role id -> its declared outputs (the last round's). */
  readonly outputs: Readonly<
    Record<string, Readonly<Record<string, string | null>>>
  >;
  /** The episode's workspace directory, still on disk (read files with lstat checks; never unpickle). */
  readonly workspace: string;
  /** The episode's id, as the run log has it (shown to command and function graders). */
  readonly episode_id?: string;
  /** Runs command graders' programs; without it, a command grader leaves the episode ungraded. */
  readonly sandbox?: Sandbox;
  /** Runs `fn` with a free sandbox slot (the run's pool, so a grader never shares a busy uid). @default slot 0 */
  readonly withSlot?: <T>(fn: (slot: number) => Promise<T>) => Promise<T>;
  /** Aborted when the grading's time is up: a grader stops its program. */
  readonly signal?: AbortSignal;
  /** Every grader kind by name (built-in and the caller's): what a composite's components run with. */
  readonly graders?: Readonly<Record<string, Grader>>;
}

/** An episode's grade: what the run records in `outcomes.jsonl` and the coach shows as outcome facts. */
export interface Grade {
  /** Whether the episode produced a gradable result (an answer; a valid submission). */
  readonly valid: boolean;
  /** For answer graders: whether the answer equals the expected one; null when not applicable. */
  readonly correct: boolean | null;
  /** The grader's metrics (names in dsl/grader_metrics.ts); for an invalid result, the spec's fair values. */
  readonly metrics: Readonly<Record<string, number>>;
  /** True when `metrics` holds the spec's fair values because the result was invalid. */
  readonly fair: boolean;
  readonly answer: unknown;
  readonly expected: unknown;
  /** Why the result is invalid (e.g. "submission.csv has 98 rows, expected 100"); absent when valid. */
  readonly reason?: string;
  /** A few sentences for the coach: the answer against the expected one, or the metrics in context. */
  readonly summary: string;
}

/** A deterministic grader; it never throws for bad agent output (that is an invalid grade with a reason). */
export type Grader = (input: GradeInput) => Promise<Grade>;
