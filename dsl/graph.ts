import type { GraderFunction } from "./grader_function.ts";
import type {
  Coach,
  Dataset,
  Model,
  Outcome,
  Role,
  Rubric,
  Tool,
  Train,
} from "./schema.ts";

/** A file of a role's contract, normalised: globs allowed, JSON Schema resolved to an object. */
export interface GraphProducedFile {
  /** Path or glob, relative to the workspace. */
  readonly path: string;
  /** Whether the role breaks its contract when it does not write the file. */
  readonly required: boolean;
  /** JSON Schema the file must satisfy, read from the spec. */
  readonly schema?: unknown;
  readonly description?: string;
}

/** One role of the compiled graph, with every default filled and derived facts computed. */
export interface GraphRole extends Omit<Role, "produces" | "sees" | "name"> {
  /** Display name: the spec's `name`, or the id when it has none. */
  readonly name: string;
  /** Position in `ExecutionGraph.roles` (a topological order). */
  readonly index: number;
  readonly produces: readonly GraphProducedFile[];
  /** Upstream role id -> what this role is shown of it. */
  readonly sees: Readonly<Record<string, readonly string[]>>;
  /** Every transitive upstream role, in graph order. */
  readonly upstream: readonly string[];
  /** Roles listing this one in `after`. */
  readonly downstream: readonly string[];
  /** Id of the loop group the role belongs to, if any. */
  readonly loop?: string;
  /** Whether the coach scores this role's actions. */
  readonly coached: boolean;
  /** Hash of the rubric scoring this role, a key of `coach.rubrics`. */
  readonly rubric?: string;
}

/** An `after` edge with every file `from` produces that `to` consumes; `flows` tells which producer each comes from. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly files: readonly string[];
}

/**
 * Files a consumer role gets from one source: a nearest producing ancestor, else the task when `dataset.files`
 * provides them, plus a loop peer that writes them in the previous round.
 */
export interface GraphFlow {
  /** Producing role id, or `"task"` for a file of `dataset.files`. */
  readonly from: string;
  /** Whether `from` is the task rather than a role (a role may itself be named `task`). */
  readonly from_task: boolean;
  /** Consuming role id. */
  readonly to: string;
  /** The consumed paths or globs, as `to` lists them in `consumes`. */
  readonly files: readonly string[];
}

/** A bounded loop group: its roles repeat, in graph order, for up to `max_rounds` rounds. */
export interface GraphLoop {
  readonly id: string;
  /** Ids of the roles that repeat. */
  readonly roles: readonly string[];
  readonly max_rounds: number;
  /** Early exit: the loop ends after a round whose `role.output` matches the regular expression `matches`. */
  readonly until?: {
    readonly role: string;
    readonly output: string;
    readonly matches: string;
  };
}

/** A dataset split with its source resolved: a local path (relative to the working directory) or a URL. */
export interface GraphSplit {
  readonly name: string;
  /** Local path or URL of the rows. */
  readonly source: string;
  readonly is_url: boolean;
  /** File format; `auto` leaves it to the loader to tell from the file. */
  readonly format: "json" | "jsonl" | "auto";
  /** Read at most this many rows. */
  readonly limit?: number;
  /** Splits whose tasks are dropped from this one, so evaluation problems never leak into training. */
  readonly exclude_overlap_with: readonly string[];
}

/** The dataset with split sources resolved and the default split chosen. */
export interface GraphDataset extends Omit<Dataset, "splits"> {
  /** Split name -> split. */
  readonly splits: Readonly<Record<string, GraphSplit>>;
  /** The split used when none is named: the spec's, else `eval`, else the first. */
  readonly default_split: string;
  /**
   * Absolute folders and files the runtime may read the dataset from (splits, row input files,
   * answers): the spec's folder (a bundle's, for a bundle) and what `--allow-read` named. Set by
   * `compile`; a graph built by hand without it is not confined.
   */
  readonly read_roots?: readonly string[];
}

/** A rubric with its content hash (the score layer is named `<name>@<hash>`). */
export interface GraphRubric extends Rubric {
  readonly hash: string;
  /** The file the rubric was read from, or the spec file when inline. */
  readonly file: string;
}

/** The coach with its rubrics hashed and each scored role mapped to its rubric. */
export interface GraphCoach
  extends Omit<Coach, "rubric" | "rubrics" | "roles"> {
  /** Ids of the roles the coach scores. */
  readonly roles: readonly string[];
  /** Rubric hash -> rubric. */
  readonly rubrics: Readonly<Record<string, GraphRubric>>;
  /** Role id -> rubric hash. */
  readonly rubric_for: Readonly<Record<string, string>>;
}

/** The outcome grader with its answer reference resolved. */
export type GraphOutcome = Outcome & {
  /** The `<role>.<output>` the grader reads, split; absent for file-based graders and named answers. */
  readonly answer_ref?: { readonly role: string; readonly output: string };
  /** Named answers (`answer: {name: <role>.<output>}`), split: each graded on its own, a metric of its name. */
  readonly answer_refs?: Readonly<
    Record<string, { readonly role: string; readonly output: string }>
  >;
  /**
   * The program of each command grader, by composite component id ("" for the outcome itself): its
   * resolved language, text, and the file it came from (for messages).
   */
  readonly programs?: Readonly<Record<string, GraphProgram>>;
  /**
   * The function of each function grader, by component id ("" for the outcome itself): set by
   * `compileModule` for TypeScript specs (the spec and its hash hold the function's source text).
   */
  readonly functions?: Readonly<Record<string, GraderFunction>>;
};

/** A program a command grader runs. */
export interface GraphProgram {
  readonly language: "python" | "typescript";
  readonly code: string;
  /** The script's file, or "<spec file> (outcome.params.code)" for inline code. */
  readonly source: string;
}

/** Training settings with the trained roles resolved. */
export interface GraphTrain extends Omit<Train, "roles"> {
  /** Ids of the roles trained: the spec's list, or every trainable role. */
  readonly roles: readonly string[];
}

/**
 * The compiled pipeline: what the runtime executes. It never reads YAML; everything it needs is here,
 * and `spec_hash` identifies the spec's meaning (comments and formatting do not change it).
 */
export interface ExecutionGraph {
  /** Version of this IR's format. */
  readonly schema_version: 1;
  readonly name: string;
  readonly description?: string;
  readonly spec_hash: string;
  /** The entry spec file, as given to the compiler. */
  readonly spec_file: string;
  /** Every file the spec was read from, with its sha256. */
  readonly sources: readonly {
    readonly path: string;
    readonly sha256: string;
  }[];
  /** Model id -> model. */
  readonly models: Readonly<Record<string, Model>>;
  /** Tool id -> tool. */
  readonly tools: Readonly<Record<string, Tool>>;
  /** Every role, in topological order. */
  readonly roles: readonly GraphRole[];
  /** One per `after` entry, in role order: the structure of the graph. */
  readonly edges: readonly GraphEdge[];
  /** Where each consumed file comes from, per consumer, including files that skip roles or come from the task. */
  readonly flows: readonly GraphFlow[];
  /** Roles grouped into stages; roles of one stage have no path between them and may run concurrently. */
  readonly stages: readonly (readonly string[])[];
  /** Roles an episode starts with. */
  readonly entry: readonly string[];
  readonly loops: readonly GraphLoop[];
  readonly dataset: GraphDataset;
  readonly coach?: GraphCoach;
  readonly outcome?: GraphOutcome;
  readonly train?: GraphTrain;
  /** The demo policy: a scripted-replies file (path from the working directory) for models without an endpoint. */
  readonly demo?: string;
}
