import { z } from "zod";
import type { GraphCoach } from "../dsl/mod.ts";
import { ModelRouter } from "../runtime/mod.ts";
import { OpenAIModelClient } from "../runtime/mod.ts";
import { ScriptedModelClient } from "../runtime/mod.ts";
import type {
  ChatMessage,
  ModelClient,
  ModelRequest,
  ModelResponse,
} from "../runtime/mod.ts";
import type { ScoreScale } from "./parse_verdict.ts";
import { JudgeReplySchema } from "./types.ts";
import { DemoJudgeClient } from "./demo_judge.ts";

// What coaches/llm_judge.ts sends: the response format, the messages, the request, the cache identity.

/** A JSON Schema response format, as `ModelRequest.response_format` carries it. */
export interface JudgeResponseFormat {
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

/**
 * The `response_format` a judge sends: the JSON Schema of JudgeReplySchema, reasoning before score.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JUDGE_RESPONSE_FORMAT } from "./llm_judge_request.ts";
 * assert.deepEqual(Object.keys(JUDGE_RESPONSE_FORMAT.schema.properties as object), ["reasoning", "score", "blame"]);
 * ```
 */
export const JUDGE_RESPONSE_FORMAT: JudgeResponseFormat = {
  name: "judge_verdict",
  // Strict json_schema servers (OpenAI) take the bare schema, without "$schema".
  schema: (({ $schema: _, ...schema }) => schema)(
    z.toJSONSchema(JudgeReplySchema) as Record<string, unknown>,
  ),
};

/** What a judge judges: one agent's action (the coach) or one episode's final result (the outcome judge). */
export type Judged = "action" | "result";

const ASK: Record<Judged, readonly [string, string, string]> = {
  action: [
    "You are the coach of a multi-agent system: you judge one action of one agent by the rubric that follows.",
    "what the agent did, what its tools returned, which files exist or are missing, the facts given",
    "id of the role whose action caused a failure",
  ],
  result: [
    "You judge the final result of one episode of a multi-agent system by the rubric that follows.",
    "what the answer says, how it compares with what the rubric asks",
    "id of the role most responsible for a poor result",
  ],
};

const replyShape = (scale: ScoreScale, judged: Judged) =>
  `{"reasoning": "<the evidence, then your judgement>", "score": <a number from ${scale.min} to ${scale.max}>, "blame": "<${
    ASK[judged][2]
  }>" or null}`;

/**
 * The judge's system prompt: the evidence first, then the score, as one JudgeReplySchema object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeSystemPrompt } from "./llm_judge_request.ts";
 * assert.match(judgeSystemPrompt({ min: 0, max: 10 }), /evidence .* then the score/);
 * ```
 */
export function judgeSystemPrompt(
  scale: ScoreScale,
  judged: Judged = "action",
): string {
  const [task, evidence] = ASK[judged];
  return [
    task,
    `First state the evidence that decides the score (${evidence}), then the score.`,
    `Reply with one JSON object and nothing else: ${
      replyShape(scale, judged)
    }.`,
  ].join("\n");
}

/**
 * The follow-up of a retry: what was wrong with the reply, and the format again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeCorrection } from "./llm_judge_request.ts";
 * assert.match(judgeCorrection("no score", { min: 0, max: 10 }), /^Your reply cannot be used: no score\./);
 * ```
 */
export function judgeCorrection(
  message: string,
  scale: ScoreScale,
  judged: Judged = "action",
): string {
  return `Your reply cannot be used: ${message}. Judge the same ${judged} again and reply with one JSON object and nothing else: ${
    replyShape(scale, judged)
  }.`;
}

/** Who a judge call judges and what it is sent with, besides the messages. */
export interface JudgeRequestSettings {
  /** The judged role's id (`outcome` for an episode's result), episode and task, for attribution. */
  readonly role: string;
  readonly episode: string;
  readonly task: string;
  /** The spec's model key of the judge. */
  readonly model: string;
  /** The judge's sampling. */
  readonly judge: Pick<
    GraphCoach["judge"],
    "temperature" | "seed" | "max_tokens"
  >;
  readonly format?: JudgeResponseFormat;
  readonly signal?: AbortSignal;
}

/**
 * One judge call: the judge's sampling over the model's, the response format when asked, and the
 * judged role (`outcome` for an episode's result), episode and task for attribution (a scripted coach
 * answers by the judged role).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeRequest } from "./llm_judge_request.ts";
 * const judge = { temperature: 0, seed: 7 };
 * const request = judgeRequest({ model: "judge", judge, role: "solver", episode: "e1", task: "t1" }, 0, []);
 * assert.deepEqual(request.sampling, { temperature: 0, seed: 7 });
 * ```
 */
export function judgeRequest(
  settings: JudgeRequestSettings,
  attempt: number,
  messages: readonly ChatMessage[],
): ModelRequest {
  const { judge, format, signal, role, episode, task } = settings;
  return {
    model: settings.model,
    messages,
    role,
    episode,
    task,
    purpose: "judge",
    turn: attempt,
    ...(format !== undefined ? { response_format: format } : {}),
    sampling: {
      temperature: judge.temperature,
      seed: judge.seed,
      ...(judge.max_tokens !== undefined
        ? { max_tokens: judge.max_tokens }
        : {}),
    },
    ...(signal !== undefined ? { signal } : {}),
  };
}

/**
 * The reply as the server sent it, reasoning returned separately kept in `<think>`, so nothing is lost.
 *
 * @example
 * ```ts ignore
 * wholeReply(response); // "<think>checked the files</think>{\"score\": 7, ...}"
 * ```
 */
export function wholeReply(
  response: Extract<ModelResponse, { ok: true }>,
): string {
  return response.reasoning !== undefined && response.reasoning !== ""
    ? `<think>${response.reasoning}</think>${response.text}`
    : response.text;
}

/** The model name and endpoint of a judge, for the cache key; `cacheable` is false for scripted replies. */
export interface JudgeEndpoint {
  readonly model_name: string;
  readonly base_url: string | null;
  /** Scripted replies depend on the script's content, which the key does not hold. */
  readonly cacheable: boolean;
}

/**
 * Where a client sends requests for `model`: an {@linkcode OpenAIModelClient}'s model and base URL, a
 * {@linkcode ModelRouter}'s route (its endpoint), a scripted client (not cacheable), else the key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeEndpoint } from "./llm_judge_request.ts";
 * import { ScriptedModelClient } from "../runtime/mod.ts";
 * const scripted = new ScriptedModelClient({ after_last: "repeat_last", roles: {}, tasks: {} });
 * assert.equal(judgeEndpoint(scripted, "judge").cacheable, false);
 * ```
 */
export function judgeEndpoint(
  client: ModelClient,
  model: string,
): JudgeEndpoint {
  if (client instanceof OpenAIModelClient) {
    return {
      model_name: client.model.model,
      base_url: client.baseURL,
      cacheable: true,
    };
  }
  if (client instanceof ScriptedModelClient) {
    return { model_name: client.modelName, base_url: null, cacheable: false };
  }
  // Demo verdicts are never cached, nor answered from a real judge's cache.
  if (client instanceof DemoJudgeClient && client.judges(model)) {
    return { model_name: "demo-judge", base_url: null, cacheable: false };
  }
  if (client instanceof ModelRouter) {
    const route = client.routes[model];
    if (route?.provider === "openai") {
      return {
        model_name: route.model_name,
        base_url: route.endpoint,
        cacheable: true,
      };
    }
    if (route !== undefined) {
      return { model_name: route.model_name, base_url: null, cacheable: false };
    }
  }
  return { model_name: model, base_url: null, cacheable: true };
}
