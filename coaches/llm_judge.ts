import type { GraphCoach, GraphRubric } from "../dsl/mod.ts";
import type {
  ChatMessage,
  ModelClient,
  ModelResponse,
} from "../runtime/mod.ts";
import type { JudgeBudget } from "./judge_budget.ts";
import { type JudgeCache, judgeCacheKey } from "./judge_cache.ts";
import {
  JUDGE_RESPONSE_FORMAT,
  judgeCorrection,
  judgeEndpoint,
  judgeRequest,
  judgeSystemPrompt,
  wholeReply,
} from "./llm_judge_request.ts";
import { parseVerdict, type ScoreScale } from "./parse_verdict.ts";
import { renderJudgePrompt } from "./render_judge_prompt.ts";
import {
  type Evidence,
  type JudgeReply,
  type Verdict,
  verdictSubject,
} from "./types.ts";

/** Options of {@linkcode judgeAction}. */
export interface JudgeActionOptions {
  /** Answers the judge's requests (a `ModelRouter` routes them by `model`). */
  readonly client: ModelClient;
  /** The spec's model key of the coach, e.g. "judge". */
  readonly model: string;
  /** The coach's judge settings: sampling, retries, structured output. */
  readonly judge: GraphCoach["judge"];
  /** Where valid verdicts are kept; without it every action makes a call. */
  readonly cache?: JudgeCache;
  /** The run's judge budget; without it calls are not limited. */
  readonly budget?: JudgeBudget;
  readonly signal?: AbortSignal;
  /**
   * The model name and base URL of the cache key, e.g. from `graph.models[model]`. @default read
   * from the client by {@linkcode judgeEndpoint} (scripted clients are never cached)
   */
  readonly endpoint?: {
    readonly model_name: string;
    readonly base_url: string | null;
  };
}

/**
 * Judges one action: renders the rubric with the evidence, asks the coach's model for a verdict
 * (a JSON Schema response format when `judge.structured_output`, temperature and seed from `judge`),
 * and reads the reply with {@linkcode parseVerdict}, so servers that ignore the format still work.
 * An unusable reply is retried up to `judge.max_retries` times, each retry re-sending the whole
 * prompt plus the invalid reply and what was wrong with it. Transport failures (HTTP errors,
 * timeouts) are retried by the model client only, then give `judge_error`.
 *
 * The verdict is `unscored` with a reason and a null score whenever no valid verdict can be had:
 * `verdict_parse_failure`, `out_of_scale`, `judge_error` or `budget` (no call made). `raw_score` and
 * `score` are the judge's score (checks and caps are applied later); `judge.raw` holds every reply
 * whole, with tokens, cost, latency, attempts and the prompt's sha256. A valid verdict is cached; a
 * cache hit makes no call and spends nothing.
 *
 * @example
 * ```ts ignore
 * const verdict = await judgeAction(evidence, graph.coach!.rubrics[hash]!, {
 *   client: router, model: graph.coach!.model, judge: graph.coach!.judge,
 *   cache: new JudgeCache(), budget: new JudgeBudget(graph.coach!.budget),
 * });
 * if (verdict.status === "unscored") console.error(verdict.reason, verdict.reasoning);
 * ```
 */
export async function judgeAction(
  evidence: Evidence,
  rubric: GraphRubric,
  options: JudgeActionOptions,
): Promise<Verdict> {
  const started = performance.now();
  const { judge } = options;
  const scale = rubric.scale;
  const prompt = renderJudgePrompt(evidence, rubric);
  const first: ChatMessage[] = [
    { role: "system", content: judgeSystemPrompt(scale) },
    { role: "user", content: prompt.text },
  ];
  const format = judge.structured_output ? JUDGE_RESPONSE_FORMAT : undefined;
  const endpoint = options.endpoint !== undefined
    ? { ...options.endpoint, cacheable: true }
    : judgeEndpoint(options.client, options.model);
  const key = judgeCacheKey({
    ...endpoint,
    ...judge,
    response_format: format,
    messages: first,
  });
  const record = newRecord(evidence, rubric, options, prompt.sha256);
  record.judge.model_name = endpoint.model_name;
  const finish = (verdict: VerdictOutcome): Verdict => ({
    ...record.base,
    ...verdict,
    judge: {
      ...record.judge,
      latency_ms: performance.now() - started,
      cost_usd: record.priced ? record.judge.cost_usd : null,
    },
    ts: new Date().toISOString(),
  });

  const cache = endpoint.cacheable ? options.cache : undefined;
  // An unreadable entry is a miss: it costs a call, not this verdict.
  const hit = await cache?.get(key).catch(() => undefined);
  if (hit !== undefined && inScale(hit.reply, scale)) {
    record.judge.raw = [...hit.raw];
    record.judge.model_name = hit.model_name;
    record.judge.cache_hit = true;
    return finish(scored(hit.reply));
  }

  const where = `action ${evidence.action_index} of role "${evidence.role.id}"`;
  let messages = first;
  let problem: { reason: UnscoredReason; message: string } = {
    reason: "verdict_parse_failure",
    message: "no reply",
  };
  const request = {
    model: options.model,
    judge,
    role: evidence.role.id,
    episode: evidence.episode_id,
    task: evidence.task.id,
    ...(format !== undefined ? { format } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  for (let attempt = 0; attempt <= judge.max_retries; attempt++) {
    if (options.budget !== undefined && !options.budget.tryStart()) {
      return finish(unscored(
        "budget",
        `Cannot judge ${where}: the judge budget is spent (${options.budget.describe()})`,
      ));
    }
    const response = await options.client.complete(
      judgeRequest(request, attempt, messages),
    );
    // Every HTTP attempt counts, retries made by the model client included.
    record.judge.attempts += Math.max(1, response.attempts);
    // A failed request is not billed; an unknown price is counted apart.
    options.budget?.record(response.ok ? response.cost_usd : 0);
    if (!response.ok) {
      return finish(unscored(
        "judge_error",
        `Cannot judge ${where}: ${response.error.message}`,
      ));
    }
    const raw = wholeReply(response);
    record.add(response, raw);
    const read = parseVerdict(raw, scale);
    if (read.ok) {
      await store(response.provider === "openai" ? cache : undefined, {
        version: 1,
        key,
        model_name: record.judge.model_name,
        prompt_sha256: prompt.sha256,
        reply: read.reply,
        raw: record.judge.raw,
        attempts: record.judge.attempts,
        prompt_tokens: record.judge.prompt_tokens,
        completion_tokens: record.judge.completion_tokens,
        cost_usd: record.priced ? record.judge.cost_usd : null,
        created: new Date().toISOString(),
      });
      return finish(scored(read.reply));
    }
    problem = { reason: read.reason, message: read.message };
    messages = [
      ...first,
      { role: "assistant", content: response.text },
      { role: "user", content: judgeCorrection(read.message, scale) },
    ];
  }
  return finish(unscored(
    problem.reason,
    `Cannot judge ${where}: no valid verdict in ${
      judge.max_retries + 1
    } replies (${record.judge.attempts} HTTP attempts); the last: ${problem.message}`,
  ));
}

type JudgeRecord = {
  -readonly [K in keyof Verdict["judge"]]: Verdict["judge"][K];
};

function newRecord(
  evidence: Evidence,
  rubric: GraphRubric,
  options: JudgeActionOptions,
  promptSha256: string,
) {
  const judge: JudgeRecord = {
    kind: "llm",
    model: options.model,
    model_name: null,
    temperature: options.judge.temperature,
    seed: options.judge.seed,
    prompt_sha256: promptSha256,
    raw: [],
    attempts: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    latency_ms: 0,
    cache_hit: false,
  };
  const record = {
    base: {
      ...verdictSubject(evidence, rubric),
      applied: [],
    },
    judge,
    /** False once a reply's cost is unknown: the verdict's cost is then null. */
    priced: true,
    add(response: Extract<ModelResponse, { ok: true }>, raw: string) {
      judge.raw.push(raw);
      judge.model_name = response.model_name;
      judge.prompt_tokens += response.usage.prompt_tokens;
      judge.completion_tokens += response.usage.completion_tokens;
      if (response.cost_usd === null) record.priced = false;
      else judge.cost_usd = (judge.cost_usd ?? 0) + response.cost_usd;
    },
  };
  return record;
}

type UnscoredReason = NonNullable<Verdict["reason"]>;

/** The parts of a verdict that say what the judge decided. */
type VerdictOutcome =
  & Pick<Verdict, "status" | "raw_score" | "score" | "reasoning" | "blame">
  & { readonly reason?: UnscoredReason };

function scored(reply: JudgeReply): VerdictOutcome {
  return {
    status: "scored",
    raw_score: reply.score,
    score: reply.score,
    reasoning: reply.reasoning,
    blame: reply.blame,
  };
}

function unscored(
  reason: UnscoredReason,
  reasoning: string,
): VerdictOutcome {
  return {
    status: "unscored",
    raw_score: null,
    score: null,
    reason,
    reasoning,
    blame: null,
  };
}

function inScale(reply: JudgeReply, scale: ScoreScale): boolean {
  return reply.score >= scale.min && reply.score <= scale.max;
}

async function store(
  cache: JudgeCache | undefined,
  entry: Parameters<JudgeCache["set"]>[0],
): Promise<void> {
  try {
    await cache?.set(entry);
  } catch {
    // A cache that cannot be written costs a later call, not this verdict.
  }
}
