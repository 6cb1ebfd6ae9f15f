import type { GraphCoach, GraphRubric } from "../dsl/mod.ts";
import type { ModelClient } from "../runtime/mod.ts";
import { callJudge } from "./judge_call.ts";
import type { JudgeBudget } from "./judge_budget.ts";
import type { JudgeCache } from "./judge_cache.ts";
import { judgeEndpoint } from "./llm_judge_request.ts";
import { renderJudgePrompt } from "./render_judge_prompt.ts";
import { type Evidence, type Verdict, verdictSubject } from "./types.ts";

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
  const prompt = renderJudgePrompt(evidence, rubric);
  const call = await callJudge({
    ...options,
    judged: "action",
    role: evidence.role.id,
    episode: evidence.episode_id,
    task: evidence.task.id,
    prompt,
    scale: rubric.scale,
    endpoint: options.endpoint !== undefined
      ? { ...options.endpoint, cacheable: true }
      : judgeEndpoint(options.client, options.model),
  });
  const where = `action ${evidence.action_index} of role "${evidence.role.id}"`;
  const { end } = call;
  return {
    ...verdictSubject(evidence, rubric),
    applied: [],
    ...(end.status === "scored"
      ? {
        status: "scored",
        raw_score: end.reply.score,
        score: end.reply.score,
        reasoning: end.reply.reasoning,
        blame: end.reply.blame,
      }
      : unscored(
        end.status === "exhausted" ? end.reason : end.status,
        end.status === "budget"
          ? `Cannot judge ${where}: the judge budget is spent (${options.budget?.describe()})`
          : end.status === "judge_error"
          ? `Cannot judge ${where}: ${end.message}`
          : `Cannot judge ${where}: no valid verdict in ${
            judge.max_retries + 1
          } replies (${call.attempts} HTTP attempts); the last: ${end.message}`,
      )),
    judge: {
      kind: "llm",
      model: options.model,
      model_name: call.model_name,
      temperature: judge.temperature,
      seed: judge.seed,
      prompt_sha256: prompt.sha256,
      raw: [...call.raw],
      attempts: call.attempts,
      prompt_tokens: call.prompt_tokens,
      completion_tokens: call.completion_tokens,
      cost_usd: call.cost_usd,
      latency_ms: performance.now() - started,
      cache_hit: call.cache_hit,
    },
    ts: new Date().toISOString(),
  };
}

function unscored(reason: NonNullable<Verdict["reason"]>, reasoning: string) {
  return {
    status: "unscored",
    raw_score: null,
    score: null,
    reason,
    reasoning,
    blame: null,
  } as const;
}
