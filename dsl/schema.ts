import { z } from "zod";
import { SPEC_BUDGETS } from "./budgets.ts";
import { globWithinBudget } from "./glob.ts";
import type { GraderFunction } from "./grader_function.ts";

// The authoring schema stays transform-free so `z.toJSONSchema(..., { io: "input" })` gives editors the
// real shape (reference/judges-and-specs.md §2, promptfoo lesson). Defaults live here; cross-field
// rules live in dsl/rules/, one file each.

/** Ids of roles, models, tools, splits, loops and outputs: usable as template keys (`upstream.<id>`). */
export const IdSchema = z
  .string()
  .max(SPEC_BUDGETS.idChars)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error:
      "ids are letters, digits and underscores, starting with a letter or underscore",
  })
  // Ids become object keys in the graph, where __proto__ would set the prototype instead.
  .refine((id) => id !== "__proto__", {
    error: "the name __proto__ is reserved",
  });

const PositiveInt = z.number().int().min(1);

/** A path inside an episode's workspace: relative, with no `..` segment (globs allowed where noted). */
export const WorkspacePathSchema = z
  .string()
  .min(1)
  .max(SPEC_BUDGETS.globChars)
  .refine(
    (p) =>
      !p.startsWith("/") && !/^[A-Za-z]:/.test(p) &&
      !p.split(/[\\/]/).includes(".."),
    {
      error:
        "workspace paths are relative and stay inside the workspace (no leading / and no ..)",
    },
  )
  .refine((p) => !p.split(/[\\/]/).every((s) => s === "." || s === ""), {
    error: "it names the workspace itself; name a file inside it",
  })
  .refine((p) => globWithinBudget(p), {
    error:
      `globs have at most ${SPEC_BUDGETS.globWildcards} wildcards and ${SPEC_BUDGETS.globVariants} {a,b} variants`,
    params: { budget: true },
  });
const NonNegative = z.number().min(0);

/** Sampling parameters sent with every request to a model endpoint. */
export const SamplingSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional().describe(
    "Sampling temperature",
  ),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: PositiveInt.optional().describe(
    "Cap on generated tokens per model call",
  ),
  min_tokens: z.number().int().min(0).optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  extra_body: z.record(z.string(), z.unknown()).optional().describe(
    "Server-specific request fields, e.g. vLLM's return_token_ids",
  ),
});

/** A named OpenAI-compatible model endpoint (or the scripted provider for tests and demos). */
export const ModelSchema = z.strictObject({
  provider: z.enum(["openai", "scripted"]).default("openai"),
  model: z.string().min(1).describe("Model name sent to the server"),
  base_url: z.string().optional().describe(
    "OpenAI-compatible base URL; absent or empty means no endpoint is configured",
  ),
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: "environment variable names are letters, digits and underscores",
  }).optional().describe(
    "Name of the environment variable holding the API key (never the key)",
  ),
  script: z.string().optional().describe(
    "Scripted provider: file of responses per role",
  ),
  family: z.string().optional().describe(
    "Model family, used to warn about judge self-preference",
  ),
  sampling: SamplingSchema.default({}),
  price: z.strictObject({
    input_per_mtok: NonNegative.describe("USD per million prompt tokens"),
    output_per_mtok: NonNegative.describe("USD per million completion tokens"),
  }).optional(),
  max_concurrency: PositiveInt.optional().describe(
    "Cap on this model's requests in flight; unset, it follows the run: episodes in flight x the roles (and coach) using the model",
  ),
  requests_per_minute: PositiveInt.optional(),
  timeout_s: z.number().positive().default(600),
  max_retries: z.number().int().min(0).max(20).default(4),
});

/** A sandboxed code tool the runtime executes for a role. */
export const ToolSchema = z.strictObject({
  language: z.enum(["python", "typescript"]),
  description: z.string().optional(),
  timeout_s: z.number().positive().max(3600).default(30),
  memory_mb: PositiveInt.default(2048).describe(
    "Memory of the whole jail (every process in it), in MiB",
  ),
  max_processes: PositiveInt.max(4096).default(128).describe(
    "Processes and threads alive at once in the jail",
  ),
  disk_mb: PositiveInt.max(1 << 20).default(1024).describe(
    "Bytes the workspace may hold while the tool runs, in MiB",
  ),
  max_files: PositiveInt.max(10_000_000).default(20_000).describe(
    "Entries (files, directories, links) the workspace may hold",
  ),
  hide_paths: z.array(
    z.string().max(4096).refine(
      (p) =>
        p.length <= 4096 && p.startsWith("/") &&
        p.split("/").every((c) => c !== "." && c !== ".."),
      "an absolute host path without . or .. components",
    ),
  ).max(64).default([]).describe(
    "Host paths the jail shows empty, on top of the packaged datasets hidden by default",
  ),
  output_cap_bytes: PositiveInt.default(65536),
  max_concurrency: PositiveInt.optional(),
});

/** A file a role must (or may) write into the shared workspace. */
export const ProducedFileSchema = z.strictObject({
  path: WorkspacePathSchema.describe("Workspace-relative path; globs allowed"),
  required: z.boolean().default(true),
  schema: z.union([z.string(), z.record(z.string(), z.unknown())]).optional()
    .describe(
      "JSON Schema (inline, or a path relative to the spec) the artifact must satisfy",
    ),
  description: z.string().optional(),
});

/** How a declared output is extracted from a role's text. */
export const OutputSchema = z.discriminatedUnion("extract", [
  z.strictObject({ extract: z.literal("last_boxed") }),
  z.strictObject({ extract: z.literal("final_text") }),
  z.strictObject({
    extract: z.literal("regex"),
    pattern: z.string(),
    group: z.number().int().min(0).default(1),
  }),
  z.strictObject({ extract: z.literal("json") }),
]);

/** What of an upstream role's work a role is shown. */
export const HandoffItemSchema = z.enum([
  "final_text",
  "all_actions",
  "tool_outputs",
  "last_tool_output",
  "files",
  "outputs",
]);

/** One agent of the pipeline. */
export const RoleSchema = z.strictObject({
  id: IdSchema,
  name: z.string().optional().describe(
    "Display name shown to the coach; defaults to the id",
  ),
  description: z.string().min(1).describe(
    "What the role must do; the coach is told this",
  ),
  model: z.string(),
  prompts: z.strictObject({
    system: z.string().optional(),
    user: z.string(),
  }),
  max_turns: PositiveInt.default(1),
  tools: z.array(z.string()).default([]),
  tool_calls: z.strictObject({
    format: z.enum(["fenced", "openai", "both"]).default("fenced"),
    scan_reasoning: z.boolean().default(false),
  }).default({ format: "fenced", scan_reasoning: false }),
  stop_pattern: z.string().optional().describe(
    "End the role's turns when a reply matches",
  ),
  after: z.array(z.string()).default([]),
  sees: z.record(z.string(), z.array(HandoffItemSchema)).optional().describe(
    "Upstream role id -> what this role is shown of it; default final_text and files of each `after` role",
  ),
  strip_reasoning: z.boolean().default(true).describe(
    "Remove <think> blocks from handoffs",
  ),
  produces: z.array(z.union([WorkspacePathSchema, ProducedFileSchema])).default(
    [],
  ),
  consumes: z.array(WorkspacePathSchema).default([]),
  outputs: z.record(IdSchema, OutputSchema).default({}),
  coach_sees_outcome: z.boolean().default(false),
  trainable: z.boolean().default(true),
});

/** A bounded group of roles that repeats, e.g. debate rounds. */
export const LoopSchema = z.strictObject({
  id: IdSchema,
  roles: z.array(z.string()).min(1),
  max_rounds: PositiveInt.optional(),
  until: z.strictObject({
    output: z.string().describe("<role>.<output> checked after each round"),
    matches: z.string().describe(
      "Regular expression; the loop ends when it matches",
    ),
  }).optional(),
});

/** Entry roles and bounded loop groups; the DAG itself comes from each role's `after`. */
export const FlowSchema = z.strictObject({
  entry: z.array(z.string()).optional().describe(
    "Roles an episode starts with; default all without `after`",
  ),
  loops: z.array(LoopSchema).default([]),
});

/** One dataset split: a path or URL, or an object with format, limit and overlap exclusion. */
export const SplitSchema = z.union([
  z.string(),
  z.strictObject({
    path: z.string().describe(
      "JSON or JSONL file relative to the spec, or an http(s) URL",
    ),
    format: z.enum(["json", "jsonl"]).optional(),
    limit: PositiveInt.optional(),
    exclude_overlap_with: z.array(z.string()).default([]),
  }),
]);

/** A per-task input file copied into the workspace: from a path template or from a row field. */
export const TaskFileSchema = z.union([
  z.strictObject({
    path: z.string().describe(
      "Source path relative to the spec; may use {{ task.<field> }}",
    ),
    as: WorkspacePathSchema,
  }),
  z.strictObject({
    field: z.string().describe(
      "Dotted path into the row holding the source path",
    ),
    as: WorkspacePathSchema,
  }),
]);

/** The dataset: splits, the mapping of row fields to task fields, and per-task input files. */
export const DatasetSchema = z.strictObject({
  splits: z.record(IdSchema, SplitSchema).refine(
    (splits) => Object.keys(splits).length > 0,
    {
      error: "declare at least one split, e.g. eval: data/tasks.jsonl",
    },
  ),
  default_split: z.string().optional(),
  fields: z.strictObject({
    id: z.string().optional().describe(
      "Dotted path of the task id; default the row index",
    ),
    answer: z.string().optional(),
    category: z.string().optional(),
    inputs: z.record(IdSchema, z.string()).describe(
      "Template name -> dotted path into the row",
    ),
  }),
  files: z.array(TaskFileSchema).default([]),
});

/**
 * The keys that give a command check or a command grader its program: a `file://` script, or inline code
 * with its language; `program` and `language` begin their descriptions.
 */
function programKeys(program: string, language: string) {
  return {
    script: z.string().min(1).optional().describe(
      `${program}, included with file://<path> (its extension gives the language)`,
    ),
    code: z.string().min(1).optional().describe(
      `${program} inline (needs language)`,
    ),
    language: z.enum(["python", "typescript"]).optional().describe(
      `${language}; default from the script's extension (.py, .ts, .js)`,
    ),
  };
}

/** A deterministic check applied after the judge: when a runtime fact holds, cap and/or floor the score. */
export const CheckSchema = z.strictObject({
  id: IdSchema,
  when: z.enum([
    "required_file_missing",
    "upstream_file_missing",
    "consumed_file_missing",
    "invalid_artifact",
    "no_tool_call",
    "tool_error",
    "tool_timeout",
    "empty_reply",
    "output_missing",
    "reply_mismatch",
    "command",
  ]),
  pattern: z.string().optional().describe(
    "For reply_mismatch: a JavaScript regular expression; the check fires when the action's reply does not match it",
  ),
  ...programKeys(
    "For command: the check program",
    "For command: the program's language",
  ),
  timeout_s: z.number().positive().max(600).optional().describe(
    "For command: wall-clock limit of one run, in seconds (default 20)",
  ),
  memory_mb: PositiveInt.max(65536).optional().describe(
    "For command: memory of the whole jail, in MiB (default 1024)",
  ),
  max_processes: PositiveInt.max(4096).optional().describe(
    "For command: processes and threads alive at once in the jail (default 64)",
  ),
  roles: z.array(z.string()).optional(),
  cap: z.number().optional(),
  floor: z.number().optional(),
});

/** One band of a metric cap: `at_least <= metric < below` limits the score to `max_score`. */
export const CapBandSchema = z.strictObject({
  at_least: z.number().optional(),
  below: z.number().optional(),
  max_score: z.number(),
});

/** A metric cap table (e.g. MAPPA's ROC-AUC bands): the first matching band limits the score. */
export const CapSchema = z.strictObject({
  id: IdSchema,
  metric: z.string().describe(
    "Outcome metric name, e.g. roc_auc or rmse_pct_of_range",
  ),
  roles: z.array(z.string()).optional(),
  bands: z.array(CapBandSchema).min(1).describe("First matching band wins"),
});

/** A versioned judge rubric: template, scale, deterministic checks and metric caps. */
export const RubricSchema = z.strictObject({
  name: IdSchema,
  version: z.string().optional(),
  description: z.string().optional(),
  scale: z.strictObject({
    min: z.number().default(0),
    max: z.number().default(10),
  }).default({ min: 0, max: 10 }),
  template: z.string().min(1).optional().describe(
    "Liquid template of the judge prompt; without it the rubric is a deterministic coach (default_score, then checks and caps)",
  ),
  default_score: z.number().optional().describe(
    "Score before checks and caps when the rubric has no template (a deterministic coach)",
  ),
  checks: z.array(CheckSchema).default([]),
  caps: z.array(CapSchema).default([]),
});

/** The coach: its model, rubrics (default and per role), when it runs, judge settings and budget. */
export const CoachSchema = z.strictObject({
  model: z.string(),
  rubric: RubricSchema,
  rubrics: z.record(z.string(), RubricSchema).default({}).describe(
    "Role id -> rubric overriding `rubric`",
  ),
  roles: z.array(z.string()).optional().describe("Roles to score; default all"),
  when: z.enum(["inline", "after", "off"]).default("inline"),
  rejudge_with_outcome: z.boolean().default(false),
  judge: z.strictObject({
    temperature: z.number().min(0).max(2).default(0),
    seed: z.number().int().default(0),
    max_retries: z.number().int().min(0).max(10).default(2),
    structured_output: z.boolean().default(true),
    max_tokens: PositiveInt.optional(),
  }).default({
    temperature: 0,
    seed: 0,
    max_retries: 2,
    structured_output: true,
  }),
  budget: z.strictObject({
    max_usd: NonNegative.optional(),
    max_calls: PositiveInt.optional(),
  }).optional(),
});

/** One condition on a metric of the outcome: at least and/or at most a value. */
export const SuccessConditionSchema = z.strictObject({
  metric: z.string(),
  at_least: z.number().optional(),
  at_most: z.number().optional(),
});

/** One condition of a success rule. */
export type SuccessCondition = z.output<typeof SuccessConditionSchema>;

/** When an episode succeeds: one condition, or several combined (all, any, at least k of them). */
export const SuccessSchema = z.union([
  SuccessConditionSchema,
  z.strictObject({
    all: z.array(SuccessConditionSchema).min(1).max(64).describe(
      "Every condition holds",
    ),
  }),
  z.strictObject({
    any: z.array(SuccessConditionSchema).min(1).max(64).describe(
      "At least one condition holds",
    ),
  }),
  z.strictObject({
    at_least_k: PositiveInt.describe("How many of the conditions must hold"),
    of: z.array(SuccessConditionSchema).min(1).max(64),
  }),
]);

/**
 * The answer of an answer grader: one `<role>.<output>`, or several named ones (each graded on its own,
 * reported as a metric of its name; `correct` when all are).
 */
const AnswerRefs = z.union([
  z.string().describe("<role>.<output> holding the answer"),
  z.record(IdSchema, z.string()).describe(
    "name -> <role>.<output>: several roles' answers, each its own metric",
  ),
]);

/** The rubric of an `llm_judge` outcome: a coach rubric's template and scale, without checks or caps. */
const OutcomeRubricSchema = z.strictObject({
  name: IdSchema.default("outcome"),
  version: z.string().optional(),
  description: z.string().optional(),
  scale: RubricSchema.shape.scale,
  template: z.string().min(1).describe(
    "Liquid template of the judge prompt (see README.md#llm-judged-outcomes)",
  ),
});

const OutcomeCommon = {
  success: SuccessSchema.optional(),
  fair: z.record(z.string(), z.number()).default({}).describe(
    "Metric values counted for failed episodes",
  ),
};

/** A metric a command or function grader reports: its valid range, and whether it is comparable across tasks. */
const DeclaredMetricSchema = z.strictObject({
  min: z.number().optional().describe("Lowest valid value"),
  max: z.number().optional().describe("Highest valid value"),
  comparable: z.boolean().default(false).describe(
    "On one 0 to 1 scale across tasks, higher better: the run summary averages it",
  ),
  description: z.string().optional(),
});

/** The metrics a command or function grader declares; what it prints is validated against them. */
const DeclaredMetricsSchema = z.record(IdSchema, DeclaredMetricSchema)
  .describe(
    "Metric name -> { min, max, comparable }: the grader must report every one, a finite number in range, and no other",
  );

/**
 * The grader of an episode of one kind (every kind but `composite`): its parameters, the success rule
 * and fair values for failures. The union a new grader kind joins; `composite` combines its members.
 */
export const SingleOutcomeSchema = z.discriminatedUnion("grader", [
  z.strictObject({
    grader: z.literal("command"),
    params: z.strictObject({
      ...programKeys("The grader program", "The program's language"),
      metrics: DeclaredMetricsSchema,
      answer: AnswerRefs.optional().describe(
        "Role outputs the program reads besides every role's outputs: <role>.<output>, or name -> <role>.<output>",
      ),
      timeout_s: z.number().positive().max(3600).default(60).describe(
        "Wall-clock limit of one grading, in seconds",
      ),
      memory_mb: ToolSchema.shape.memory_mb,
      max_processes: ToolSchema.shape.max_processes,
      output_cap_bytes: PositiveInt.max(16 << 20).default(65536).describe(
        "Most bytes the program may print on stdout",
      ),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("function"),
    fn: z.union([
      z.string(),
      z.custom<GraderFunction>((v) => typeof v === "function"),
    ]).describe(
      "TS specs only: async ({ task, expected, outputs, workspace }) => ({ metrics, valid?, reason?, summary? })",
    ),
    params: z.strictObject({
      metrics: DeclaredMetricsSchema,
      timeout_s: z.number().positive().max(3600).default(60).describe(
        "Wall-clock limit of one grading, in seconds",
      ),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("math_equivalence"),
    params: z.strictObject({
      answer: AnswerRefs,
      tolerance: z.number().min(0).default(1e-6),
      boxed: z.enum(["all", "last"]).default("all").describe(
        "Several \\boxed{} in one answer: all (a set of answers) or last",
      ),
      chained: z.enum(["last", "whole"]).default("last").describe(
        "Chained equalities x = 5+6 = 11: last side, or the whole equation",
      ),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("exact_match"),
    params: z.strictObject({
      answer: AnswerRefs,
      case_sensitive: z.boolean().default(false),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("regex"),
    params: z.strictObject({
      answer: AnswerRefs,
      pattern: z.union([z.string(), z.record(IdSchema, z.string())]).describe(
        "A pattern, or one per named answer",
      ),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("tabular_metric"),
    params: z.strictObject({
      submission: WorkspacePathSchema.describe(
        "Workspace file with the predictions",
      ),
      metric: z.string().optional().describe(
        "Metric name; default the task's own metric field",
      ),
      metric_field: z.string().optional(),
      answers: z.string().describe(
        "Path (may use {{ task.<field> }}) or dotted field of the answers file",
      ),
      id_column: z.string().optional(),
    }),
    ...OutcomeCommon,
  }),
  z.strictObject({
    grader: z.literal("llm_judge"),
    params: z.strictObject({
      model: z.string().describe("Key of `models` that judges the outcome"),
      rubric: z.union([
        z.string().min(1).describe(
          "Liquid template of the judge prompt, on a 0 to 10 scale",
        ),
        OutcomeRubricSchema,
      ]),
      answer: AnswerRefs.describe(
        "What is judged: <role>.<output>, or name -> <role>.<output>",
      ),
      files: z.boolean().default(false).describe(
        "Show the judge the workspace's file list (template variable files)",
      ),
      temperature: z.number().min(0).max(2).default(0),
      seed: z.number().int().default(0),
      max_retries: z.number().int().min(0).max(10).default(2).describe(
        "Judge calls after an unusable verdict; then the episode is ungraded",
      ),
      structured_output: z.boolean().default(true),
      max_tokens: PositiveInt.optional(),
      budget: z.strictObject({
        max_usd: NonNegative.optional(),
        max_calls: PositiveInt.optional(),
      }).optional().describe(
        "Past it, episodes are ungraded (masked), never failed",
      ),
    }),
    ...OutcomeCommon,
  }),
]);

/** The grader of an episode (deterministic, a program, a model with a rubric, or several combined), its parameters, the success rule and fair values for failures. */
export const OutcomeSchema = z.discriminatedUnion("grader", [
  ...SingleOutcomeSchema.options,
  z.strictObject({
    grader: z.literal("composite"),
    params: z.strictObject({
      graders: z.record(IdSchema, SingleOutcomeSchema).describe(
        "id -> a grader of any other kind, without success or fair; its metrics are reported as <id>.<metric>",
      ),
    }),
    ...OutcomeCommon,
  }),
]);

/** Training settings: roles, REINFORCE++ hyperparameters, reward mapping, schedule, eval and trainer. */
export const TrainSchema = z.strictObject({
  roles: z.array(z.string()).optional().describe(
    "Roles to train; default every role with trainable: true",
  ),
  algorithm: z.enum(["reinforce_pp"]).default("reinforce_pp"),
  hyperparameters: z.strictObject({
    learning_rate: z.number().positive().default(1e-6),
    lr_schedule: z.enum(["constant", "cosine"]).default("constant").describe(
      "Learning rate over the run's steps: constant, or cosine from learning_rate down to min_lr_ratio of it",
    ),
    warmup_ratio: z.number().min(0).max(1).default(0).describe(
      "Fraction of the steps over which the learning rate first ramps up linearly (MAPPA: 0.03)",
    ),
    min_lr_ratio: z.number().min(0).max(1).default(0).describe(
      "Floor of the cosine schedule as a fraction of learning_rate (MAPPA: 0.1)",
    ),
    kl_coef: NonNegative.default(0.01),
    clip_eps: z.number().positive().default(0.2),
    reward_clip: z.number().positive().default(10),
    gamma: z.number().min(0).max(1).default(1),
    baseline: z.enum(["none", "group"]).default("none"),
    normalize_std: z.boolean().default(true).describe(
      "Divide advantages by their std over the batch (REINFORCE++); false only centres them (OpenRLHF no_std_norm)",
    ),
    mask_truncated: z.boolean().default(false).describe(
      "Drop actions that hit max_tokens from the loss (they are still rolled out and coached); default false, MAPPA: true (OpenRLHF mask_truncated_completions)",
    ),
    epochs: PositiveInt.default(1).describe(
      "PPO epochs over each step's samples (MAPPA: max_epochs 1)",
    ),
    minibatch_size: PositiveInt.optional().describe(
      "Samples per optimizer step (OpenRLHF train_batch_size, MAPPA: 16); default all of the step's samples, so one optimizer step per epoch",
    ),
    micro_batch_size: PositiveInt.default(1).describe(
      "MAPPA's micro_train_batch_size; mappa's trainer micro-batches by tokens instead, so it is recorded but not used",
    ),
    max_grad_norm: z.number().positive().default(1),
    lora_rank: PositiveInt.default(16),
    lora_alpha: z.number().positive().default(32),
    lora_target_modules: z.array(z.string().min(1)).min(1).optional().describe(
      "Modules each adapter adapts (PEFT target_modules); default the backend's set",
    ),
  }).prefault({}),
  reward: z.strictObject({
    scale: z.number().default(0.1).describe("reward = score * scale + offset"),
    offset: z.number().default(0),
    unscored: z.enum(["mask"]).default("mask"),
    outcome_weight: z.number().min(0).max(1).default(0),
  }).prefault({}),
  steps: PositiveInt.default(100),
  tasks_per_step: PositiveInt.default(8),
  samples_per_task: PositiveInt.default(2),
  split: z.string().default("train"),
  eval: z.strictObject({
    every: PositiveInt.default(4),
    splits: z.array(z.string()).default([]),
    samples_per_task: PositiveInt.default(1),
    limit: PositiveInt.optional().describe(
      "Evaluate at most this many tasks of each split",
    ),
    coach: z.boolean().default(false).describe(
      "Score eval actions with the coach too, for per-role eval scores (costs judge calls)",
    ),
  }).prefault({}),
  trainer: z.strictObject({
    url: z.string().default("local").describe(
      '"local" starts the Python trainer; else its base URL',
    ),
    backend: z.enum(["tiny", "hf"]).default("tiny"),
    base_model: z.string().optional(),
  }).prefault({}),
  rollout: z.strictObject({
    engine: z.enum(["trainer", "vllm"]).default("trainer").describe(
      "Who samples the trained roles' actions: the trainer itself, or vLLM servers each new adapter is loaded into and verified on (docs/vllm.md)",
    ),
    urls: z.array(z.string().min(1)).default([]).describe(
      "Base URLs of the vLLM servers (http://host:8000); each request goes to the one with the fewest in flight",
    ),
    adapter_dir: z.string().min(1).optional().describe(
      "Directory the adapters are written to, seen at the same path by mappa and every engine (relative to the working directory)",
    ),
    max_staleness: z.number().int().min(0).default(0).describe(
      "Versions kept loaded besides the current one; older ones are unloaded once their requests end",
    ),
    probe_tolerance: z.number().positive().default(0.05).describe(
      "Largest mean |logprob difference| between engine and trainer on the probe that still counts as the same adapter",
    ),
  }).prefault({}),
  seed: z.number().int().default(0),
});

/**
 * A whole pipeline spec: the single source of truth for YAML specs, `definePipeline` and the JSON Schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PipelineSchema } from "./schema.ts";
 * assert(!PipelineSchema.safeParse({ version: 1, name: "x" }).success);
 * ```
 */
export const PipelineSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  name: IdSchema,
  description: z.string().optional(),
  extends: z.union([z.string(), z.array(z.string())]).optional().describe(
    "Specs to inherit from, relative to this file; maps merge, role lists merge by id",
  ),
  models: z.record(IdSchema, ModelSchema),
  tools: z.record(IdSchema, ToolSchema).default({}),
  roles: z.array(RoleSchema).min(1).max(SPEC_BUDGETS.roles),
  flow: FlowSchema.default({ loops: [] }),
  dataset: DatasetSchema,
  coach: CoachSchema.optional(),
  outcome: OutcomeSchema.optional(),
  train: TrainSchema.optional(),
  demo: z.string().min(1).optional().describe(
    "Scripted replies per role (a path relative to the spec, not file://) used when a model has no endpoint",
  ),
});

/** A spec as authored (defaults optional). */
export type PipelineInput = z.input<typeof PipelineSchema>;
/** A spec after shape validation (defaults filled). */
export type Pipeline = z.output<typeof PipelineSchema>;
/** A role after shape validation. */
export type Role = z.output<typeof RoleSchema>;
/** A model endpoint after shape validation. */
export type Model = z.output<typeof ModelSchema>;
/** A sandboxed tool after shape validation. */
export type Tool = z.output<typeof ToolSchema>;
/** A rubric after shape validation. */
export type Rubric = z.output<typeof RubricSchema>;
/** An outcome grader declaration after shape validation. */
export type Outcome = z.output<typeof OutcomeSchema>;

/** A grader declaration of one kind (a `composite` outcome's component, or any outcome but a composite). */
export type SingleOutcome = z.output<typeof SingleOutcomeSchema>;
/** A dataset declaration after shape validation. */
export type Dataset = z.output<typeof DatasetSchema>;
/** Training settings after shape validation. */
export type Train = z.output<typeof TrainSchema>;
/** A coach declaration after shape validation. */
export type Coach = z.output<typeof CoachSchema>;
/** A loop group after shape validation. */
export type Loop = z.output<typeof LoopSchema>;
