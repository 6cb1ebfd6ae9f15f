import type { Grade, GradeInput, Grader } from "../runtime/mod.ts";
import { UngradedError } from "../runtime/mod.ts";
import { ModelRouter } from "../runtime/mod.ts";
import type { ModelClient } from "../runtime/mod.ts";
import { DemoJudgeClient } from "./demo_judge.ts";
import { callJudge, type JudgeCall, noCall } from "./judge_call.ts";
import { JudgeBudget } from "./judge_budget.ts";
import type { JudgeCache } from "./judge_cache.ts";
import { judgeEndpoint } from "./llm_judge_request.ts";
import {
  judgedAnswers,
  outcomeJudgeParams,
  outcomeRubric,
  renderOutcomeJudgePrompt,
} from "./outcome_judge_prompt.ts";
import type { JudgeReply } from "./types.ts";

/** Why an outcome judge gave no verdict: the episode is then ungraded (masked), never failed. */
export type OutcomeUnscoredReason =
  | "verdict_parse_failure"
  | "out_of_scale"
  | "judge_error"
  | "budget"
  | "no_endpoint";

/** One outcome judgement as `onJudgement` receives it: the verdict or why there is none, and what it cost. */
export interface OutcomeJudgement extends Omit<JudgeCall, "end"> {
  readonly task_id: string;
  /** The episode's id, when the runtime gives it. */
  readonly episode_id?: string;
  readonly status: "scored" | "unscored";
  readonly reason?: OutcomeUnscoredReason;
  /** The judge's score on the rubric's scale; null when unscored. */
  readonly score: number | null;
  readonly normalized_score: number | null;
  readonly reasoning: string;
  readonly rubric: string;
  readonly scale: { readonly min: number; readonly max: number };
  /** The spec's model key. */
  readonly model: string;
  readonly prompt_sha256: string;
  /** True when the demo judge answered: a scripted verdict, not a model's (`scripted` is then true too). */
  readonly demo: boolean;
  readonly ts: string;
}

/**
 * A judge that could not give a verdict: `gradeEpisode` records the episode as ungraded (`grader_error`)
 * with this message, and its outcome reward is masked; `reason` says why.
 */
export class OutcomeJudgeError extends UngradedError {
  readonly reason: OutcomeUnscoredReason;
  constructor(reason: OutcomeUnscoredReason, message: string) {
    super("grader_error", message);
    this.name = "OutcomeJudgeError";
    this.reason = reason;
  }
}

/** Options of {@linkcode outcomeJudgeGrader}. */
export interface OutcomeJudgeOptions {
  /** Answers the judge's requests (a `ModelRouter` routes them by the spec's model key). */
  readonly client: ModelClient;
  /** Where valid verdicts are kept (the coach's cache); without it every episode makes a call. */
  readonly cache?: JudgeCache;
  /** @default a budget of `outcome.params.budget`, made at the first grading */
  readonly budget?: JudgeBudget;
  /** Called with every judgement, scored or not (the CLI appends them to the run's outcome_judge.jsonl). */
  readonly onJudgement?: (j: OutcomeJudgement) => void | Promise<void>;
  /**
   * Judge models the demo judge answers (labelled as scripted). @default the model of `client` when it
   * is a {@linkcode DemoJudgeClient}
   */
  readonly demoModels?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

const DEMO_NOTE =
  "Demo judge: a scripted verdict, not a model's (the outcome judge's model has no endpoint), never a grade of the answer";

/**
 * The `grader: llm_judge` outcome grader: renders the rubric with the episode's answers (see
 * {@linkcode renderOutcomeJudgePrompt}), asks `outcome.params.model` for a verdict (structured output,
 * tolerant fallback parser, `max_retries` retries re-sending the prompt with what was wrong) and reports
 * `score` (the rubric's scale) and `normalized_score` (0 to 1). No answer at all is an invalid result
 * (the spec's fair values), as for other graders. A verdict that cannot be had (garbage or out-of-scale
 * replies after retries, an endpoint error, a spent budget, a model without endpoint) throws an
 * {@linkcode OutcomeJudgeError}: the episode is ungraded with the reason, never failed, and `--resume`
 * grades it again. Valid verdicts are cached by model, parameters and prompt; a hit costs nothing.
 *
 * @example
 * ```ts ignore
 * const grader = outcomeJudgeGrader({ client: router, cache: new JudgeCache() });
 * await runPipeline(graph, { model: router, sandbox }, { graders: { llm_judge: grader } });
 * ```
 */
export function outcomeJudgeGrader(options: OutcomeJudgeOptions): Grader {
  // One budget per judge declaration (a composite may hold several), for the whole run.
  const budgets = new WeakMap<object, JudgeBudget>();
  return async (input: GradeInput): Promise<Grade> => {
    const params = outcomeJudgeParams(input.graph);
    let budget = options.budget ?? budgets.get(params);
    if (budget === undefined) {
      const b = params.budget;
      budget = new JudgeBudget({
        ...(b?.max_usd !== undefined ? { max_usd: b.max_usd } : {}),
        ...(b?.max_calls !== undefined ? { max_calls: b.max_calls } : {}),
      });
      budgets.set(params, budget);
    }
    const rubric = outcomeRubric(params);
    const { min, max } = rubric.scale;
    const { single, answers } = judgedAnswers(params, input.outputs);
    const answer = single ? answers.answer ?? null : answers;
    const expected = input.task.answer ?? null;
    if (Object.values(answers).every((a) => a === null || a.trim() === "")) {
      const refs = typeof params.answer === "string"
        ? [params.answer]
        : Object.values(params.answer);
      return {
        valid: false,
        correct: null,
        metrics: { ...input.graph.outcome!.fair },
        fair: true,
        answer,
        expected,
        reason: `no answer to judge: ${refs.join(", ")} ${
          refs.length > 1 ? "are" : "is"
        } empty`,
        summary: `No answer to judge (${refs.join(", ")} empty).`,
      };
    }
    if (!(max > min)) {
      throw new OutcomeJudgeError(
        "out_of_scale",
        `Cannot judge the outcome of task "${input.task.id}": the rubric's scale ${min} to ${max} is empty; set scale.max above scale.min`,
      );
    }
    const j = await judge(input, params, rubric, budget, options);
    await options.onJudgement?.(j);
    if (j.status === "unscored") {
      throw new OutcomeJudgeError(j.reason!, j.reasoning);
    }
    const score = j.score!;
    const verdict = j.demo
      ? `${DEMO_NOTE}: the middle of the scale, ${score} on ${min} to ${max}; set models.${params.model}.base_url to have a model judge.`
      : j.scripted
      ? `Scripted judge reply (models.${params.model} is a scripted provider, not a model): ${score} on ${min} to ${max}: ${j.reasoning}`
      : `The outcome judge (${params.model}, rubric "${rubric.name}") gave ${score} on ${min} to ${max}: ${j.reasoning}`;
    return {
      valid: true,
      correct: null,
      metrics: { score, normalized_score: j.normalized_score! },
      fair: false,
      answer,
      expected,
      summary: verdict,
    };
  };
}

type Params = ReturnType<typeof outcomeJudgeParams>;
type Rubric = ReturnType<typeof outcomeRubric>;

async function judge(
  input: GradeInput,
  params: Params,
  rubric: Rubric,
  budget: JudgeBudget,
  options: OutcomeJudgeOptions,
): Promise<OutcomeJudgement> {
  const { client } = options;
  // The grading's own deadline (gradeEpisode aborts it) stops a call in flight, as does the caller's.
  const signals = [options.signal, input.signal].filter((
    s,
  ): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const scale = rubric.scale;
  const prompt = await renderOutcomeJudgePrompt(input, rubric);
  const demo = options.demoModels?.has(params.model) ??
    (client instanceof DemoJudgeClient && client.judges(params.model));
  const endpoint = judgeEndpoint(client, params.model);
  const where = `the outcome of task "${input.task.id}"`;
  const done = (
    call: Omit<JudgeCall, "end">,
    v: { reply: JudgeReply } | {
      reason: OutcomeUnscoredReason;
      message: string;
    },
  ): OutcomeJudgement => ({
    task_id: input.task.id,
    ...(input.episode_id !== undefined ? { episode_id: input.episode_id } : {}),
    ...("reply" in v
      ? {
        status: "scored" as const,
        score: v.reply.score,
        normalized_score: (v.reply.score - scale.min) / (scale.max - scale.min),
        reasoning: v.reply.reasoning,
      }
      : {
        status: "unscored" as const,
        reason: v.reason,
        score: null,
        normalized_score: null,
        reasoning: v.message,
      }),
    rubric: rubric.name,
    scale,
    model: params.model,
    model_name: call.model_name,
    prompt_sha256: prompt.sha256,
    raw: call.raw,
    attempts: call.attempts,
    prompt_tokens: call.prompt_tokens,
    completion_tokens: call.completion_tokens,
    cost_usd: call.cost_usd,
    cache_hit: call.cache_hit,
    demo,
    scripted: demo || call.scripted,
    ts: new Date().toISOString(),
  });
  const route = client instanceof ModelRouter
    ? client.routes[params.model]
    : undefined;
  // The demo policy's scripted replies are no judge: a model without endpoint leaves the episode ungraded.
  if (!demo && route !== undefined && route.provider === "unconfigured") {
    return done(noCall(endpoint.model_name), {
      reason: "no_endpoint",
      message:
        `Cannot judge ${where}: models.${params.model} has no endpoint; set its base_url, then grade again with --resume`,
    });
  }
  const call = await callJudge({
    client,
    judged: "result",
    model: params.model,
    judge: params,
    role: "outcome",
    episode: input.episode_id ?? input.task.id,
    task: input.task.id,
    prompt,
    scale,
    endpoint,
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    budget,
    ...(signal !== undefined ? { signal } : {}),
  });
  const { end } = call;
  return done(
    call,
    end.status === "scored" ? { reply: end.reply } : {
      reason: end.status === "exhausted" ? end.reason : end.status,
      message: end.status === "budget"
        ? `Cannot judge ${where}: the outcome judge's budget is spent (${budget.describe()}); raise outcome.params.budget, then grade again with --resume`
        : end.status === "judge_error"
        ? `Cannot judge ${where}: ${end.message}`
        : `Cannot judge ${where}: no valid verdict in ${
          params.max_retries + 1
        } replies (${call.attempts} HTTP attempts); the last: ${end.message} (${end.reason}); grade again with --resume`,
    },
  );
}
