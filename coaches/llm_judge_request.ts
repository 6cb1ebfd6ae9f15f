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
import { type Evidence, JudgeReplySchema } from "./types.ts";
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

const REPLY_SHAPE = (scale: ScoreScale) =>
  `{"reasoning": "<the evidence, then your judgement>", "score": <a number from ${scale.min} to ${scale.max}>, "blame": "<id of the role whose action caused a failure>" or null}`;

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
export function judgeSystemPrompt(scale: ScoreScale): string {
  return [
    "You are the coach of a multi-agent system: you judge one action of one agent by the rubric that follows.",
    "First state the evidence that decides the score (what the agent did, what its tools returned, which files exist or are missing, the facts given), then the score.",
    `Reply with one JSON object and nothing else: ${REPLY_SHAPE(scale)}.`,
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
export function judgeCorrection(message: string, scale: ScoreScale): string {
  return `Your reply cannot be used: ${message}. Judge the same action again and reply with one JSON object and nothing else: ${
    REPLY_SHAPE(scale)
  }.`;
}

/** What a judge request is sent with, besides the evidence and the messages. */
export interface JudgeRequestSettings {
  /** The spec's model key of the coach. */
  readonly model: string;
  readonly judge: GraphCoach["judge"];
  readonly format?: JudgeResponseFormat;
  readonly signal?: AbortSignal;
}

/**
 * One judge call: the judge's sampling over the model's, the response format when asked, and the
 * judged role, episode and task for attribution (a scripted coach answers by the judged role).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeRequest } from "./llm_judge_request.ts";
 * import type { Evidence } from "./types.ts";
 * const evidence = { role: { id: "solver" }, episode_id: "e1", task: { id: "t1" } } as unknown as Evidence;
 * const judge = { temperature: 0, seed: 7, max_retries: 2, structured_output: false };
 * const request = judgeRequest(evidence, 0, [], { model: "judge", judge });
 * assert.deepEqual(request.sampling, { temperature: 0, seed: 7 });
 * ```
 */
export function judgeRequest(
  evidence: Evidence,
  attempt: number,
  messages: readonly ChatMessage[],
  settings: JudgeRequestSettings,
): ModelRequest {
  const { judge, format, signal } = settings;
  return {
    model: settings.model,
    messages,
    role: evidence.role.id,
    purpose: "judge",
    episode: evidence.episode_id,
    task: evidence.task.id,
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
