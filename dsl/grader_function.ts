/**
 * The contract of a grader function written in a TypeScript spec (`outcome: { grader: "function", fn }`):
 * it runs in-process (it is the user's own code, like the spec), under the outcome's timeout, and its
 * result is validated against the declared metrics exactly like a command grader's output.
 */

/** What a grader function receives. */
export interface GraderFunctionInput {
  /** The task row: its id, split, category and inputs (the expected answer is `expected`). */
  readonly task: {
    readonly id: string;
    readonly split: string;
    readonly category?: string;
    readonly inputs: Readonly<Record<string, unknown>>;
  };
  /** The task's expected answer (the dataset's answer field), or null. */
  readonly expected: unknown;
  /** Role id -> its declared outputs (the last round's). */
  readonly outputs: Readonly<
    Record<string, Readonly<Record<string, string | null>>>
  >;
  /** A snapshot copy of the episode's workspace (regular files and folders only, no symlinks). */
  readonly workspace: string;
  readonly episode_id: string;
  /** Aborted when the grading's time is up. */
  readonly signal: AbortSignal;
}

/** What a grader function returns (a command grader prints the same object as JSON). */
export interface GraderFunctionResult {
  /** Every declared metric, a finite number within its range, and no other. */
  readonly metrics: Readonly<Record<string, number>>;
  /** False when the agents produced nothing gradable: the episode then counts at the spec's fair values. */
  readonly valid?: boolean;
  /** Why the result is invalid (shown in outcomes.jsonl and to the coach). */
  readonly reason?: string;
  /** A few sentences for the coach. */
  readonly summary?: string;
  /** What the grader took as the agents' answer, for the record. */
  readonly answer?: unknown;
}

/** A grader function of a TypeScript spec; a throw makes the episode ungraded, never failed. */
export type GraderFunction = (
  input: GraderFunctionInput,
) => GraderFunctionResult | Promise<GraderFunctionResult>;
