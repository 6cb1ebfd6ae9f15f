import type { GraphCoach } from "../dsl/mod.ts";
import type { ChatMessage, ModelClient } from "../runtime/mod.ts";
import type { JudgeBudget } from "./judge_budget.ts";
import { type JudgeCache, judgeCacheKey } from "./judge_cache.ts";
import {
  JUDGE_RESPONSE_FORMAT,
  judgeCorrection,
  type Judged,
  type JudgeEndpoint,
  judgeRequest,
  judgeSystemPrompt,
  wholeReply,
} from "./llm_judge_request.ts";
import {
  parseVerdict,
  type ScoreScale,
  type VerdictParse,
} from "./parse_verdict.ts";
import type { JudgeReply } from "./types.ts";

/** One judge call: who and what is judged, by which model, with which prompt. */
export interface JudgeCallSettings {
  readonly client: ModelClient;
  /** An agent's action (the coach) or an episode's result (the outcome judge). */
  readonly judged: Judged;
  /** The spec's model key of the judge. */
  readonly model: string;
  /** Sampling, retries and whether to ask for the JSON Schema response format. */
  readonly judge: GraphCoach["judge"];
  /** The judged role's id (`outcome` for a result), episode and task, for attribution. */
  readonly role: string;
  readonly episode: string;
  readonly task: string;
  /** The rendered judge prompt and its sha256. */
  readonly prompt: { readonly text: string; readonly sha256: string };
  readonly scale: ScoreScale;
  /** The cache key's model name and base URL; only a cacheable endpoint reads or writes the cache. */
  readonly endpoint: JudgeEndpoint;
  readonly cache?: JudgeCache;
  /** Without it calls are not limited. */
  readonly budget?: JudgeBudget;
  readonly signal?: AbortSignal;
}

/** How a judge call ended: a verdict, or why there is none (`budget`: no call was made). */
export type JudgeCallEnd =
  | { readonly status: "scored"; readonly reply: JudgeReply }
  | { readonly status: "budget" }
  | { readonly status: "judge_error"; readonly message: string }
  | {
    /** Every reply was unusable: the last one's reason and what was wrong. */
    readonly status: "exhausted";
    readonly reason: Extract<VerdictParse, { ok: false }>["reason"];
    readonly message: string;
  };

/** What a judge call did: its end, every reply whole, and what it cost. */
export interface JudgeCall {
  readonly end: JudgeCallEnd;
  /** The model name the server answered with (the cache entry's on a hit). */
  readonly model_name: string | null;
  readonly raw: readonly string[];
  /** HTTP attempts, the model client's own retries included. */
  readonly attempts: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Null once a reply's price is unknown. */
  readonly cost_usd: number | null;
  readonly cache_hit: boolean;
  /** True when a reply came from a provider other than an OpenAI-compatible server (a scripted one). */
  readonly scripted: boolean;
}

/** The record of a judge call before any reply: nothing sent, nothing spent. */
export function noCall(modelName: string | null): {
  -readonly [K in keyof Omit<JudgeCall, "end">]: K extends "raw" ? string[]
    : JudgeCall[K];
} {
  return {
    model_name: modelName,
    raw: [],
    attempts: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    cache_hit: false,
    scripted: false,
  };
}

/**
 * Asks a judge for a verdict: the judge's system prompt and the rendered prompt (a JSON Schema response
 * format when `judge.structured_output`), each reply read with {@linkcode parseVerdict}, so servers that
 * ignore the format still work. An unusable reply is retried up to `judge.max_retries` times, each retry
 * re-sending the prompt with the invalid reply and what was wrong with it; transport failures are retried
 * by the model client only. A valid verdict from an OpenAI-compatible server is cached; a cache hit in
 * scale makes no call and spends nothing. A cache that cannot be read or written costs a call, never the
 * verdict. The coach ({@linkcode judgeAction}) and the outcome judge word the ends their own way.
 *
 * @example
 * ```ts ignore
 * const call = await callJudge({ client, judged: "action", model: "judge", judge: coach.judge,
 *   role: "solver", episode: "eval:t1", task: "t1", prompt, scale: { min: 0, max: 10 },
 *   endpoint: judgeEndpoint(client, "judge") });
 * if (call.end.status === "scored") console.log(call.end.reply.score);
 * ```
 */
export async function callJudge(
  settings: JudgeCallSettings,
): Promise<JudgeCall> {
  const { client, judge, scale, endpoint, budget } = settings;
  const first: ChatMessage[] = [
    { role: "system", content: judgeSystemPrompt(scale, settings.judged) },
    { role: "user", content: settings.prompt.text },
  ];
  const format = judge.structured_output ? JUDGE_RESPONSE_FORMAT : undefined;
  const key = judgeCacheKey({
    ...endpoint,
    ...judge,
    response_format: format,
    messages: first,
  });
  const call = noCall(endpoint.model_name);
  const end = (e: JudgeCallEnd): JudgeCall => ({ ...call, end: e });
  const cache = endpoint.cacheable ? settings.cache : undefined;
  const hit = await cache?.get(key);
  if (
    hit !== undefined && hit.reply.score >= scale.min &&
    hit.reply.score <= scale.max
  ) {
    call.raw.push(...hit.raw);
    call.model_name = hit.model_name;
    call.cache_hit = true;
    return end({ status: "scored", reply: hit.reply });
  }
  const request = {
    ...settings,
    ...(format !== undefined ? { format } : {}),
  };
  let messages = first;
  let last: JudgeCallEnd = {
    status: "exhausted",
    reason: "verdict_parse_failure",
    message: "no reply",
  };
  for (let attempt = 0; attempt <= judge.max_retries; attempt++) {
    if (budget !== undefined && !budget.tryStart()) {
      return end({ status: "budget" });
    }
    const response = await client.complete(
      judgeRequest(request, attempt, messages),
    );
    call.attempts += Math.max(1, response.attempts);
    // A failed request is not billed; an unknown price is counted apart.
    budget?.record(response.ok ? response.cost_usd : 0);
    if (!response.ok) {
      return end({ status: "judge_error", message: response.error.message });
    }
    const text = wholeReply(response);
    call.raw.push(text);
    call.model_name = response.model_name;
    call.scripted ||= response.provider !== "openai";
    call.prompt_tokens += response.usage.prompt_tokens;
    call.completion_tokens += response.usage.completion_tokens;
    call.cost_usd = call.cost_usd === null || response.cost_usd === null
      ? null
      : call.cost_usd + response.cost_usd;
    const read = parseVerdict(text, scale);
    if (read.ok) {
      if (response.provider === "openai") {
        await cache?.set({
          version: 1,
          key,
          model_name: call.model_name,
          prompt_sha256: settings.prompt.sha256,
          reply: read.reply,
          raw: call.raw,
          attempts: call.attempts,
          prompt_tokens: call.prompt_tokens,
          completion_tokens: call.completion_tokens,
          cost_usd: call.cost_usd,
          created: new Date().toISOString(),
        }).catch(() => {});
      }
      return end({ status: "scored", reply: read.reply });
    }
    last = { status: "exhausted", reason: read.reason, message: read.message };
    messages = [
      ...first,
      { role: "assistant", content: response.text },
      {
        role: "user",
        content: judgeCorrection(read.message, scale, settings.judged),
      },
    ];
  }
  return end(last);
}
