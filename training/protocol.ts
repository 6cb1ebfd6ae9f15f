import { z } from "zod";

/**
 * The records of the trainer protocol (reference/trainer-protocol.md §4), as zod schemas. They are the
 * single source of truth: `trainer/schemas/*.json` is generated from them (`deno task trainer:schemas`)
 * and the Python tests validate their fixtures against those files. Wire format, so snake_case keys.
 */

const TokenIds = z.array(z.number().int().min(0));

/** `GET /v1/info`. */
export const TrainerInfoSchema = z.looseObject({
  protocol: z.literal("1"),
  backend: z.string(),
  base_model: z.string(),
  tokenizer: z.looseObject({
    vocab_size: z.number().int().positive(),
    eos_token_ids: z.array(z.number().int()),
    pad_token_id: z.number().int(),
    chat_template_sha256: z.string(),
  }),
  capabilities: z.looseObject({
    chat: z.boolean(),
    max_policies: z.number().int().positive().nullable().optional(),
    max_lora_rank: z.number().int().positive().nullable().optional(),
    logprobs: z.enum(["processed", "raw"]),
    strict_on_policy: z.boolean(),
  }),
});
export type TrainerInfo = z.infer<typeof TrainerInfoSchema>;

/** `PUT /v1/policies/{policy_id}`: one policy (a LoRA adapter on the shared base) per trained role. */
export const PolicyConfigSchema = z.strictObject({
  adapter: z.strictObject({
    r: z.number().int().positive(),
    alpha: z.number().positive(),
    target_modules: z.array(z.string()).optional(),
    init_from: z.string().optional(),
  }),
  optimizer: z.strictObject({
    lr: z.number().positive(),
    weight_decay: z.number().min(0),
    grad_clip: z.number().positive(),
    schedule: z.enum(["constant", "cosine"]).optional(),
    warmup_steps: z.number().int().min(0).optional(),
    total_steps: z.number().int().min(0).optional(),
    min_lr_ratio: z.number().min(0).max(1).optional(),
  }),
  algo: z.strictObject({
    name: z.enum(["reinforce_pp", "reinforce_pp_baseline", "grpo"]),
    kl_coef: z.number().min(0),
    kl_estimator: z.enum(["k1", "k2", "k3"]),
    clip_eps: z.tuple([z.number().positive(), z.number().positive()]),
    reward_clip: z.tuple([z.number(), z.number()]),
    gamma: z.number().min(0).max(1),
    ppo_epochs: z.number().int().positive(),
    minibatch_size: z.number().int().positive(),
    mask_truncated: z.boolean(),
    no_std_norm: z.boolean().optional(),
    seed: z.number().int().optional(),
  }),
});
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;

/** The reply to creating or reading a policy. */
export const PolicyStateSchema = z.looseObject({
  policy_id: z.string(),
  version: z.number().int().min(0),
  state: z.enum(["ready", "training"]).optional(),
  served_name: z.string().optional(),
});
export type PolicyState = z.infer<typeof PolicyStateSchema>;

/** One LLM action = one training sample (principle 2): the exact ids sampled and the context they followed. */
export const SampleSchema = z.strictObject({
  sample_id: z.string(),
  trajectory_id: z.string(),
  group_id: z.string().optional(),
  action_index: z.number().int().min(0),
  policy_version: z.number().int().min(0),
  prompt_token_ids: TokenIds.min(1),
  completion_token_ids: TokenIds.min(1),
  behavior_logprobs: z.array(z.number()).optional(),
  loss_mask: z.array(z.union([z.literal(0), z.literal(1)])).optional(),
  reward: z.number(),
  advantage: z.number().optional(),
});
/** One training sample: one action of one role, with its reward. */
export type Sample = z.infer<typeof SampleSchema>;

/** `POST /v1/train`. */
export const TrainRequestSchema = z.strictObject({
  policy_id: z.string(),
  expected_version: z.number().int().min(0),
  idempotency_key: z.string(),
  /** The run's training step from 0: the learning-rate schedule's index (default the policy version). */
  step: z.number().int().min(0).optional(),
  /** The steps the schedule spans (default the policy's optimizer.total_steps). */
  total_steps: z.number().int().min(0).optional(),
  samples: z.array(SampleSchema).min(1),
});
export type TrainRequest = z.infer<typeof TrainRequestSchema>;

const MetricNumber = z.number().nullable().optional();

/** One NDJSON line of a `/v1/train` reply. */
export const TrainLineSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("progress"),
    step: z.number().int(),
    loss: MetricNumber,
    kl: MetricNumber,
    clipfrac: MetricNumber,
    ratio_mean: MetricNumber,
    grad_norm: MetricNumber,
    mismatch_kl: MetricNumber,
  }),
  z.looseObject({
    type: z.literal("done"),
    policy_id: z.string(),
    new_version: z.number().int().min(1),
    adapter_dir: z.string().nullable().optional(),
    metrics: z.record(z.string(), z.number().nullable()),
  }),
  z.looseObject({
    type: z.literal("error"),
    error: z.string(),
    message: z.string(),
  }),
]);
export type TrainLine = z.infer<typeof TrainLineSchema>;
export type TrainDone = Extract<TrainLine, { type: "done" }>;
/** A progress line of `/v1/train`: one optimizer step of the update. */
export type TrainProgress = Extract<TrainLine, { type: "progress" }>;

/** `POST /v1/render`: the trainer's token ids of a conversation under its chat template. */
export const RenderReplySchema = z.looseObject({
  token_ids: TokenIds,
  text: z.string().optional(),
});
export type RenderReply = z.infer<typeof RenderReplySchema>;

/** `POST /v1/logprobs`: log p(token_ids[t] | token_ids[:t]) under a policy version (null at t = 0), or the base. */
export const LogprobsReplySchema = z.looseObject({
  policy_id: z.string().nullable(),
  policy_version: z.number().int().min(0).nullable(),
  token_ids: TokenIds,
  token_logprobs: z.array(z.number().nullable()),
});
export type LogprobsReply = z.infer<typeof LogprobsReplySchema>;

/** Every error reply: a code, a sentence naming what, where and how to fix, and details. */
export const TrainerErrorBodySchema = z.looseObject({
  error: z.union([
    z.string(),
    z.looseObject({ message: z.string(), code: z.string().nullish() }),
  ]),
  message: z.string().optional(),
  current_version: z.number().int().optional(),
  sample_ids: z.array(z.string()).optional(),
});

/** The schemas written to `trainer/schemas/<name>.json`. */
export const PROTOCOL_SCHEMAS = {
  info: TrainerInfoSchema,
  policy_config: PolicyConfigSchema,
  policy_state: PolicyStateSchema,
  sample: SampleSchema,
  train_request: TrainRequestSchema,
  train_line: TrainLineSchema,
  error: TrainerErrorBodySchema,
  render_reply: RenderReplySchema,
  logprobs_reply: LogprobsReplySchema,
} as const;

/** The JSON Schema of each protocol record, for the Python tests (draft 2020-12). */
export function protocolJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(PROTOCOL_SCHEMAS)) {
    out[name] = z.toJSONSchema(schema, { io: "input" }) as Record<
      string,
      unknown
    >;
  }
  return out;
}
