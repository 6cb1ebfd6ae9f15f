import { type RunEvent, RunEventSchema } from "../runtime/events.ts";
import { type Verdict, VerdictSchema } from "../coaches/types.ts";
import type { TrainerInfo } from "./protocol.ts";
import { DETERMINISTIC_JUDGE } from "../coaches/deterministic_judge.ts";
import { verdictKey } from "../coaches/mod.ts";

// Test fixtures of the training layer: run events and verdicts built from a short description, each
// checked against its real schema, and a loopback HTTP server that records what it was sent.

export const RUN_ID = "r1";
const TS = "2025-01-01T00:00:00.000Z";
const EMPTY_CONTRACT = {
  missing_required: [],
  missing_inputs: [],
  invalid: [],
};

let seq = 0;

/** `episode_started` of `episode`. */
export function started(
  episode: string,
  fields: {
    attempt?: number;
    task_id?: string;
    split?: string;
    category?: string | null;
  } = {},
): RunEvent {
  return RunEventSchema.parse({
    run_id: RUN_ID,
    step: seq++,
    ts: TS,
    role: null,
    kind: "episode_started",
    episode_id: episode,
    attempt: fields.attempt ?? 1,
    task_id: fields.task_id ?? `task-${episode}`,
    split: fields.split ?? "train",
    index: 0,
    category: fields.category === undefined ? null : fields.category,
    workspace: `/tmp/ws/${episode}`,
  });
}

/** The model call of an action; `ok` with token ids, logprobs and policy version 0 unless overridden. */
export function modelCall(
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ok: true,
    provider: "openai",
    model: "tiny",
    finish_reason: "stop",
    latency_ms: 1,
    attempts: 1,
    prompt_token_ids: [1, 2, 3],
    completion_token_ids: [4, 5],
    completion_logprobs: [-0.5, -0.25],
    policy_version: 0,
    ...fields,
  };
}

/** An `action` of `role` in `episode`. */
export function action(
  episode: string,
  role: string,
  index: number,
  fields: { attempt?: number; call?: Record<string, unknown> } = {},
): RunEvent {
  return RunEventSchema.parse({
    run_id: RUN_ID,
    step: seq++,
    ts: TS,
    role,
    kind: "action",
    episode_id: episode,
    attempt: fields.attempt ?? 1,
    action_index: index,
    turn: 1,
    round: 1,
    messages: [{ role: "user", content: "go" }],
    reply: { role: "assistant", content: "word" },
    model_call: fields.call ?? modelCall(),
    executions: [],
    ignored_code_blocks: 0,
    contract: EMPTY_CONTRACT,
    stop_reason: "no_tool_call",
  });
}

/**
 * `episode_finished` of `episode`; `success` adds an outcome record, `undefined` leaves it ungraded;
 * `ungraded` marks that record as a grader failure (infrastructure, not the agents').
 */
export function finished(
  episode: string,
  fields: {
    attempt?: number;
    success?: boolean;
    metrics?: Record<string, number>;
    ungraded?: "grader_missing" | "grader_error" | "grader_timeout";
    grader?: string;
    status?: "completed" | "failed";
  } = {},
): RunEvent {
  return RunEventSchema.parse({
    run_id: RUN_ID,
    step: seq++,
    ts: TS,
    role: null,
    kind: "episode_finished",
    episode_id: episode,
    attempt: fields.attempt ?? 1,
    status: fields.status ?? "completed",
    ...(fields.status === "failed"
      ? { error: "Error: model unreachable" }
      : {}),
    actions: 1,
    model_failures: 0,
    wall_ms: 5,
    outputs: {},
    files: {},
    ...(fields.success === undefined ? {} : {
      outcome: {
        grader: fields.grader ?? "regex",
        valid: true,
        correct: fields.success,
        success: fields.success,
        metrics: fields.metrics ?? { correct: fields.success ? 1 : 0 },
        fair: false,
        answer: "x",
        expected: null,
        summary: fields.success ? "correct" : "wrong",
        ...(fields.ungraded ? { ungraded: fields.ungraded } : {}),
      },
    }),
  });
}

/** A verdict on one action: scored when `score` is a number, unscored when null. */
export function verdict(
  episode: string,
  role: string,
  index: number,
  score: number | null,
  attempt = 1,
): Verdict {
  return VerdictSchema.parse({
    run_id: RUN_ID,
    episode_id: episode,
    attempt,
    action_index: index,
    role,
    rubric: { name: "relay", hash: "abc" },
    status: score === null ? "unscored" : "scored",
    raw_score: score,
    score,
    ...(score === null ? { reason: "judge_error" } : {}),
    reasoning: "",
    blame: null,
    applied: [],
    judge: DETERMINISTIC_JUDGE,
    ts: TS,
  });
}

/** Verdicts keyed as the coach layers key them (`verdictKey`). */
export function verdictMap(verdicts: readonly Verdict[]): Map<string, Verdict> {
  return new Map(verdicts.map((v) => [verdictKey(v), v]));
}

/** One request a {@linkcode LoopbackServer} received. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** A loopback HTTP server that answers with `handler` and records every request; dispose to close it. */
export interface LoopbackServer extends AsyncDisposable {
  readonly url: string;
  readonly received: Received[];
}

export function serve(
  handler: (req: Received) => Response | Promise<Response>,
): LoopbackServer {
  const received: Received[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const text = await req.text();
      let body: unknown = undefined;
      if (text !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const r = { method: req.method, path: new URL(req.url).pathname, body };
      received.push(r);
      return await handler(r);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A JSON response. */
export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A trainer's `/v1/info` for tests: the tiny backend's shape, a 64-token vocabulary. */
export const TRAINER_INFO: TrainerInfo = {
  protocol: "1",
  backend: "tiny",
  base_model: "tiny",
  tokenizer: {
    vocab_size: 64,
    eos_token_ids: [0],
    pad_token_id: 0,
    chat_template_sha256: "a".repeat(64),
  },
  capabilities: { chat: true, logprobs: "processed", strict_on_policy: true },
};
