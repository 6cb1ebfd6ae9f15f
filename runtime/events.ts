import { z } from "zod";

// Every record of events.jsonl, validated with these schemas before it is written (DESIGN.md decision 6).
// Keys are snake_case: the run log is a wire format read by the coach, the trainer and users' tools.

const Base = {
  run_id: z.string(),
  /** Monotonic sequence number within the run (across resumes). */
  step: z.number().int().min(0),
  ts: z.string(),
  role: z.string().nullable(),
};

/** The fields of an event that belongs to one attempt at one episode. */
const InEpisode = {
  episode_id: z.string(),
  attempt: z.number().int().min(1),
};

export const StreamCaptureSchema = z.strictObject({
  text: z.string(),
  total_bytes: z.number().int().min(0),
  truncated: z.boolean(),
});

export const FileChangeSchema = z.strictObject({
  path: z.string(),
  change: z.enum(["created", "modified", "deleted"]),
  kind: z.enum(["file", "dir", "symlink", "fifo", "socket", "device", "other"]),
  size: z.number().int().min(0).optional(),
  sha256: z.string().optional(),
  rejected: z.string().optional(),
  /** Why the content is not in blobs/ (a sparse file, or past the blob cap): recorded as such, never expanded. */
  not_stored: z.string().optional(),
});

export const ExecutionSchema = z.strictObject({
  tool: z.string(),
  language: z.enum(["python", "typescript"]),
  code: z.string(),
  /** OpenAI tool-call id when the model called the tool that way. */
  call_id: z.string().optional(),
  status: z.string(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  wall_ms: z.number(),
  stdout: StreamCaptureSchema,
  stderr: StreamCaptureSchema,
  error: z.strictObject({ type: z.string(), message: z.string() }).optional(),
  backend: z.string(),
  argv_hash: z.string().optional(),
  limits: z.record(z.string(), z.number()).optional(),
  files: z.array(FileChangeSchema),
});

export const ContractSchema = z.strictObject({
  /** Required files of the role not present in the workspace after this action. */
  missing_required: z.array(z.string()),
  /** Consumed files absent when the action started. */
  missing_inputs: z.array(z.string()),
  /** JSON artifacts that failed their schema: path and the first problems. */
  invalid: z.array(
    z.strictObject({ path: z.string(), problems: z.array(z.string()) }),
  ),
});

export const UsageSchema = z.strictObject({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
});

/**
 * Where a list continues an earlier action's (runtime/action_history.ts): its first `count` items are
 * those of action `action` of the same episode attempt, followed by that action's own output. Actions
 * record only what they add, so events.jsonl grows linearly with the turns, not with their square.
 */
export const PrefixRefSchema = z.strictObject({
  /** `action_index` of an earlier action of the same episode attempt. */
  action: z.number().int().min(0),
  count: z.number().int().min(1),
});

export const ModelCallSchema = z.strictObject({
  ok: z.boolean(),
  provider: z.enum(["openai", "scripted"]),
  model: z.string(),
  model_name: z.string().optional(),
  finish_reason: z.string().nullable().optional(),
  usage: UsageSchema.optional(),
  latency_ms: z.number(),
  cost_usd: z.number().nullable().optional(),
  attempts: z.number().int(),
  error: z.strictObject({
    kind: z.string(),
    status: z.number().optional(),
    message: z.string(),
  }).optional(),
  /** With `prompt_token_ids_ref`, only the ids after the prefix it names. */
  prompt_token_ids: z.array(z.number().int()).optional(),
  /** The prompt's first ids are the referenced action's prompt ids then its completion ids, `count` of them. */
  prompt_token_ids_ref: PrefixRefSchema.optional(),
  completion_token_ids: z.array(z.number().int()).optional(),
  completion_logprobs: z.array(z.number()).optional(),
  /** Which version of a trainer-served policy sampled the reply. */
  policy_version: z.number().int().min(0).optional(),
});

export const MessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  tool_calls: z.array(
    z.strictObject({ id: z.string(), name: z.string(), arguments: z.string() }),
  ).optional(),
  tool_call_id: z.string().optional(),
});

/** A model whose `max_concurrency` holds a run back. */
export const ModelCapSchema = z.strictObject({
  model: z.string(),
  max_concurrency: z.number().int().min(1),
  /** Requests the run could keep in flight for it: episodes x its users that can run at once. */
  demand: z.number().int().min(1),
  /** Episodes in flight. */
  episodes: z.number().int().min(1),
});

export const RunStartedEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("run_started"),
  resumed: z.boolean(),
  /** Bytes of a partial last line dropped from events.jsonl when resuming after a crash. */
  repaired_bytes: z.number().int().min(0).optional(),
  /** Models whose spec'd `max_concurrency` is below the requests the run can keep in flight: they slow it. */
  capped_models: z.array(ModelCapSchema).optional(),
});

export const EpisodeStartedEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("episode_started"),
  ...InEpisode,
  task_id: z.string(),
  split: z.string(),
  index: z.number().int().min(0),
  category: z.string().nullable(),
  workspace: z.string(),
  /** The task's template fields and expected answer (agents never see the answer; the coach may). */
  task: z.strictObject({
    inputs: z.record(z.string(), z.string()),
    answer: z.unknown(),
  }).optional(),
  /** The input files the workspace was seeded with: path -> sha256 (content in blobs/). */
  files: z.record(z.string(), z.string()).optional(),
});

/**
 * The variables of a role's prompt templates as recorded (runtime/render_prompt.ts `promptVariables`), less
 * `upstream`: each handoff names its role, so `upstream` is rebuilt from `handoffs` without a second copy.
 */
export const PromptVariablesSchema = z.object({
  pipeline: z.record(z.string(), z.unknown()),
  task: z.record(z.string(), z.unknown()),
  role: z.record(z.string(), z.unknown()),
  handoffs: z.array(
    z.looseObject({ role: z.looseObject({ id: z.string() }) }),
  ),
}).catchall(z.unknown());

export const ActionEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("action"),
  ...InEpisode,
  /** 0-based index of the action within the episode. */
  action_index: z.number().int().min(0),
  turn: z.number().int().min(1),
  round: z.number().int().min(1),
  /** The exact messages the model was given: all of them, or with `messages_ref` those after its prefix. */
  messages: z.array(MessageSchema),
  /** The first messages are the referenced action's messages then its reply, `count` of them. */
  messages_ref: PrefixRefSchema.optional(),
  /** The assistant message it returned (empty content when the call failed). */
  reply: MessageSchema,
  /** OpenAI tools offered with this request (roles with tool_calls.format openai or both). */
  tools: z.array(
    z.strictObject({
      name: z.string(),
      description: z.string(),
      parameters: z.record(z.string(), z.unknown()),
    }),
  )
    .optional(),
  reasoning: z.string().optional(),
  /** The reply's answer, its reasoning removed, as the runtime split it; absent when it is `reply.content`
   * itself. Runs recorded before answers were (no `prompt_variables` on a round's first action) are split
   * again by the coach (coaches/evidence_legacy.ts). */
  answer: z.string().optional(),
  /** On the action that rendered the role's prompts (turn 1 of a round): the template variables it was shown,
   * without `upstream` (the `handoffs` keyed by their `role.id`). Later turns of the round saw the same. */
  prompt_variables: PromptVariablesSchema.optional(),
  /** On the role's last action of a round: its declared outputs, as `role_finished` records them. */
  outputs: z.record(z.string(), z.string().nullable()).optional(),
  model_call: ModelCallSchema,
  executions: z.array(ExecutionSchema),
  /** Tool-call blocks found but not run (e.g. a language the role has no tool for). */
  ignored_code_blocks: z.number().int().min(0),
  contract: ContractSchema,
  stop_reason: z.enum([
    "continue",
    "no_tool_call",
    "stop_pattern",
    "max_turns",
    "model_error",
    "empty_reply",
  ]),
});

export const RoleFinishedEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("role_finished"),
  ...InEpisode,
  round: z.number().int().min(1),
  actions: z.number().int().min(0),
  outputs: z.record(z.string(), z.string().nullable()),
  files_saved: z.array(z.string()),
  contract: ContractSchema,
});

/** An episode's grade from the spec's outcome grader (runtime/graders/), as recorded in the run log. */
export const OutcomeRecordSchema = z.strictObject({
  grader: z.string(),
  /** A gradable result was produced (an answer; a valid submission). */
  valid: z.boolean(),
  correct: z.boolean().nullable(),
  success: z.boolean(),
  /** The grader's metrics; for an invalid result, the spec's fair values (`fair: true`). */
  metrics: z.record(z.string(), z.number()),
  fair: z.boolean(),
  answer: z.unknown(),
  expected: z.unknown(),
  reason: z.string().optional(),
  summary: z.string(),
  /** Set when the episode could not be graded for an infrastructure reason (not the agents' doing): the
   * grader is missing, threw (answers file missing or unreadable), timed out, or (a command or function
   * grader) returned output that is not its declared metrics. Its outcome reward is masked, and
   * `valid`/`success` say nothing about the agents. */
  ungraded: z.enum([
    "grader_missing",
    "grader_error",
    "grader_timeout",
    "grader_invalid_output",
  ]).optional(),
});

export const EpisodeFinishedEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("episode_finished"),
  ...InEpisode,
  status: z.enum(["completed", "failed"]),
  error: z.string().optional(),
  actions: z.number().int().min(0),
  /** Model calls that failed after every retry for a reason that may pass (server down, timeouts, 5xx, 429,
   * malformed bodies): the episode is recorded, and --resume runs it again. */
  model_failures: z.number().int().min(0).default(0),
  wall_ms: z.number(),
  /** Role id -> its declared outputs. */
  outputs: z.record(z.string(), z.record(z.string(), z.string().nullable())),
  /** Final workspace files: path -> sha256 (content in blobs/). */
  files: z.record(z.string(), z.string()),
  /** The grade, when the spec declares an outcome grader. */
  outcome: OutcomeRecordSchema.optional(),
  /** Written by --resume for an episode the grader could not grade before: graded again from its recorded
   * outputs and final files, the agents not run again; this event replaces the earlier one. */
  regraded: z.literal(true).optional(),
});

export const RunFinishedEventSchema = z.strictObject({
  ...Base,
  kind: z.literal("run_finished"),
  status: z.enum(["completed", "interrupted", "error"]),
  episodes: z.number().int().min(0),
  error: z.string().optional(),
});

/** One record of events.jsonl. */
export const RunEventSchema = z.discriminatedUnion("kind", [
  RunStartedEventSchema,
  EpisodeStartedEventSchema,
  ActionEventSchema,
  RoleFinishedEventSchema,
  EpisodeFinishedEventSchema,
  RunFinishedEventSchema,
]);

/** One record of events.jsonl, as validated by `RunEventSchema`. */
export type RunEvent = z.infer<typeof RunEventSchema>;
export type ActionEvent = z.infer<typeof ActionEventSchema>;
/** The template variables an action's prompts were rendered with, as recorded. */
export type PromptVariables = z.infer<typeof PromptVariablesSchema>;
export type EpisodeFinishedEvent = z.infer<typeof EpisodeFinishedEventSchema>;
export type Execution = z.infer<typeof ExecutionSchema>;
export type Contract = z.infer<typeof ContractSchema>;
export type FileChange = z.infer<typeof FileChangeSchema>;
/** An episode's grade. */
export type OutcomeRecord = z.infer<typeof OutcomeRecordSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type ModelCap = z.infer<typeof ModelCapSchema>;
export type PrefixRef = z.infer<typeof PrefixRefSchema>;

/** An event before the store stamps it with run id, step and time. */
export type RunEventInput = RunEvent extends infer E
  ? E extends RunEvent ? Omit<E, "run_id" | "step" | "ts"> : never
  : never;
