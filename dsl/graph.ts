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
  readonly path: string;
  readonly required: boolean;
  readonly schema?: unknown;
  readonly description?: string;
}

/** One role of the compiled graph, with every default filled and derived facts computed. */
export interface GraphRole extends Omit<Role, "produces" | "sees" | "name"> {
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
  readonly loop?: string;
  /** Whether the coach scores this role's actions. */
  readonly coached: boolean;
  /** Hash of the rubric scoring this role, a key of `coach.rubrics`. */
  readonly rubric?: string;
}

/** An `after` edge with the files that flow along it (consumed by `to`, produced by `from`). */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly files: readonly string[];
}

export interface GraphLoop {
  readonly id: string;
  readonly roles: readonly string[];
  readonly max_rounds: number;
  readonly until?: {
    readonly role: string;
    readonly output: string;
    readonly matches: string;
  };
}

/** A dataset split with its source resolved: a local path (relative to the working directory) or a URL. */
export interface GraphSplit {
  readonly name: string;
  readonly source: string;
  readonly is_url: boolean;
  readonly format: "json" | "jsonl" | "auto";
  readonly limit?: number;
  readonly exclude_overlap_with: readonly string[];
}

export interface GraphDataset extends Omit<Dataset, "splits"> {
  readonly splits: Readonly<Record<string, GraphSplit>>;
  readonly default_split: string;
}

/** A rubric with its content hash (the score layer is named `<name>@<hash>`). */
export interface GraphRubric extends Rubric {
  readonly hash: string;
  /** The file the rubric was read from, or the spec file when inline. */
  readonly file: string;
}

export interface GraphCoach
  extends Omit<Coach, "rubric" | "rubrics" | "roles"> {
  readonly roles: readonly string[];
  /** Rubric hash -> rubric. */
  readonly rubrics: Readonly<Record<string, GraphRubric>>;
  /** Role id -> rubric hash. */
  readonly rubric_for: Readonly<Record<string, string>>;
}

export type GraphOutcome = Outcome & {
  /** The `<role>.<output>` the grader reads, split; absent for file-based graders. */
  readonly answer_ref?: { readonly role: string; readonly output: string };
};

export interface GraphTrain extends Omit<Train, "roles"> {
  readonly roles: readonly string[];
}

/**
 * The compiled pipeline: what the runtime executes. It never reads YAML; everything it needs is here,
 * and `spec_hash` identifies the spec's meaning (comments and formatting do not change it).
 */
export interface ExecutionGraph {
  readonly schema_version: 1;
  readonly name: string;
  readonly description?: string;
  readonly spec_hash: string;
  readonly spec_file: string;
  /** Every file the spec was read from, with its sha256. */
  readonly sources: readonly {
    readonly path: string;
    readonly sha256: string;
  }[];
  readonly models: Readonly<Record<string, Model>>;
  readonly tools: Readonly<Record<string, Tool>>;
  readonly roles: readonly GraphRole[];
  readonly edges: readonly GraphEdge[];
  /** Roles grouped into stages; roles of one stage have no path between them and may run concurrently. */
  readonly stages: readonly (readonly string[])[];
  readonly entry: readonly string[];
  readonly loops: readonly GraphLoop[];
  readonly dataset: GraphDataset;
  readonly coach?: GraphCoach;
  readonly outcome?: GraphOutcome;
  readonly train?: GraphTrain;
}
