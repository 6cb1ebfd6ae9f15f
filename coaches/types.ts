import { z } from "zod";

// Wire formats of the coach (snake_case): the evidence a judge is shown for one action, and the verdict
// record of a score layer (`runs/<id>/scores/<rubric>@<hash>.jsonl`). Evidence keys are exactly the rubric
// template variables that dsl/template_context.ts checks at compile time.

/** One tool execution as the coach sees it: status, exit, capped output, the files it changed. */
export interface ObservationEvidence {
  readonly tool: string;
  readonly status: string;
  readonly exit_code: number | null;
  readonly wall_ms: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdout_truncated: boolean;
  readonly stderr_truncated: boolean;
  readonly error?: { readonly type: string; readonly message: string };
  readonly files: readonly {
    readonly path: string;
    readonly change: string;
    readonly rejected?: string;
  }[];
}

/** A fact the runtime established, given to the judge as data rather than left for it to infer. */
export interface Fact {
  readonly kind:
    | "required_file_missing"
    | "upstream_file_missing"
    | "consumed_file_missing"
    | "invalid_artifact"
    | "no_tool_call"
    | "tool_error"
    | "tool_timeout"
    | "empty_reply"
    | "output_missing"
    | "model_error";
  /** The role the fact is about (for upstream facts: the role that should have produced the file). */
  readonly role: string;
  readonly file?: string;
  /** One sentence for the judge, e.g. `data_engineer did not save required file "X_test.pkl"`. */
  readonly text: string;
}

/** Outcome facts, only for roles with `coach_sees_outcome`. */
export interface OutcomeEvidence {
  readonly expected: unknown;
  readonly answer: unknown;
  readonly correct: boolean | null;
  readonly success: boolean | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly summary: string;
}

/** Everything the coach gets for one action (DESIGN.md "Evidence"); the rubric template's variables. */
export interface Evidence {
  readonly run_id: string;
  readonly episode_id: string;
  readonly attempt: number;
  readonly action_index: number;
  readonly pipeline: {
    readonly name: string;
    readonly description: string;
    readonly roles: readonly string[];
  };
  readonly task: Readonly<Record<string, unknown>> & {
    readonly id: string;
    readonly category: string | null;
  };
  readonly role: {
    readonly id: string;
    readonly name: string;
    readonly description: string;
    readonly max_turns: number;
    readonly tools: readonly string[];
    readonly produces: readonly string[];
    readonly consumes: readonly string[];
  };
  readonly upstream: Readonly<Record<string, unknown>>;
  readonly handoffs: readonly unknown[];
  readonly action: {
    readonly index: number;
    readonly turn: number;
    /** The messages the role was given for this action, rendered as one text. */
    readonly input: string;
    readonly messages: readonly {
      readonly role: string;
      readonly content: string;
    }[];
    readonly output: string;
    readonly reasoning: string;
    readonly tool_calls: readonly {
      readonly name: string;
      readonly arguments: string;
    }[];
    readonly observations: readonly ObservationEvidence[];
    readonly last_observation: ObservationEvidence | null;
  };
  readonly previous_actions: readonly {
    readonly turn: number;
    readonly output: string;
  }[];
  readonly files: {
    readonly available: readonly string[];
    readonly produced: readonly string[];
    readonly missing_required: readonly string[];
    readonly invalid: readonly string[];
    readonly deleted: readonly string[];
  };
  /** Files saved by upstream roles, per role: "data_engineer saved: X_train.pkl, y_train.pkl". */
  readonly upstream_files: readonly string[];
  /** Upstream contract violations: "data_engineer did not save required file X_test.pkl". */
  readonly upstream_violations: readonly string[];
  /** Facts as sentences for the template, and as data for checks. */
  readonly facts: readonly string[];
  readonly fact_data: readonly Fact[];
  readonly scale: { readonly min: number; readonly max: number };
  readonly round?: number;
  readonly max_rounds?: number;
  readonly outcome?: OutcomeEvidence;
}

/** What the judge must return (sent as the JSON Schema response format, parsed again with zod). */
export const JudgeReplySchema = z.strictObject({
  reasoning: z.string().describe(
    "The evidence that decides the score, before the score",
  ),
  score: z.number().describe("The score on the rubric's scale"),
  blame: z.string().nullable().describe(
    "The role whose action caused a failure, or null",
  ),
});

/** A judge's parsed reply. */
export type JudgeReply = z.infer<typeof JudgeReplySchema>;

/** Why an action has no score: never a made-up number (STYLE.md §6). */
export const UnscoredReasonSchema = z.enum([
  "verdict_parse_failure",
  "judge_error",
  "budget",
  "out_of_scale",
  "not_coached",
  "check_failed",
]);

/** One record of a score layer: the verdict on one action under one rubric version. */
export const VerdictSchema = z.strictObject({
  run_id: z.string(),
  episode_id: z.string(),
  attempt: z.number().int().min(1),
  action_index: z.number().int().min(0),
  role: z.string(),
  rubric: z.strictObject({ name: z.string(), hash: z.string() }),
  status: z.enum(["scored", "unscored"]),
  /** The judge's score (or the rubric's default_score), before checks and caps. */
  raw_score: z.number().nullable(),
  /** After checks and caps; null when unscored. */
  score: z.number().nullable(),
  reason: UnscoredReasonSchema.optional(),
  reasoning: z.string(),
  blame: z.string().nullable(),
  applied: z.array(z.strictObject({
    id: z.string(),
    kind: z.enum(["check", "cap"]),
    effect: z.enum(["cap", "floor"]),
    value: z.number(),
    /** What a `when: command` check's program said when it fired. */
    note: z.string().optional(),
  })),
  judge: z.strictObject({
    kind: z.enum(["llm", "deterministic"]),
    model: z.string().nullable(),
    model_name: z.string().nullable(),
    temperature: z.number().nullable(),
    seed: z.number().nullable(),
    prompt_sha256: z.string().nullable(),
    /** The judge's whole reply (every attempt), never truncated. */
    raw: z.array(z.string()),
    attempts: z.number().int().min(0),
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    cost_usd: z.number().nullable(),
    latency_ms: z.number(),
    cache_hit: z.boolean(),
  }),
  ts: z.string(),
});

/** One verdict record. */
export type Verdict = z.infer<typeof VerdictSchema>;

/** The fields that say which action, under which rubric version, a verdict is about. */
export type VerdictSubject = Pick<
  Verdict,
  "run_id" | "episode_id" | "attempt" | "action_index" | "role" | "rubric"
>;

/** The subject of the verdict on the action `evidence` describes, under `rubric`. */
export function verdictSubject(
  evidence: Evidence,
  rubric: { name: string; hash: string },
): VerdictSubject {
  return {
    run_id: evidence.run_id,
    episode_id: evidence.episode_id,
    attempt: evidence.attempt,
    action_index: evidence.action_index,
    role: evidence.role.id,
    rubric: { name: rubric.name, hash: rubric.hash },
  };
}
