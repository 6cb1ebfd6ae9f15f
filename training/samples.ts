import type { GraphTrain } from "../dsl/mod.ts";
import type { RunEvent } from "../runtime/mod.ts";
import { type Verdict, verdictKey } from "../coaches/mod.ts";
import type { Sample } from "./protocol.ts";
import { type CoachNoise, corruptScore } from "./coach_noise.ts";

type ActionEvent = Extract<RunEvent, { kind: "action" }>;
type EpisodeStarted = Extract<RunEvent, { kind: "episode_started" }>;
type EpisodeFinished = Extract<RunEvent, { kind: "episode_finished" }>;

/** Why an action of a trained role is not sent to the trainer. */
export type MaskReason =
  | "unscored"
  | "no_tokens"
  | "stale"
  | "not_graded"
  | "grader_failed"
  | "truncated"
  | "singleton_group"
  | "refused";

/** What one role's actions of a step gave. In-memory, so camelCase. */
export interface RoleSamples {
  readonly samples: Sample[];
  readonly masked: Partial<Record<MaskReason, number>>;
  /** Coach scores of its scored actions (after checks and caps), sent or not. */
  readonly scores: number[];
  /** Coach scores per task category (`null` category as "(none)"). */
  readonly scoresByCategory: Record<string, number[]>;
  completionTokens: number;
}

/** Options of {@linkcode buildSamples}. */
export interface BuildSamplesOptions {
  readonly runId: string;
  /** The trained roles, each with the policy version its actions must have been sampled at (strict on-policy). */
  readonly versions: Readonly<Record<string, number>>;
  readonly reward: GraphTrain["reward"];
  /** Drop actions whose completion hit max_tokens (MAPPA's mask_truncated_completions). */
  readonly maskTruncated: boolean;
  /**
   * The trainer subtracts each group's mean reward: a group (task) left with one sample has no baseline,
   * so its sample is dropped (`singleton_group`). @default false
   */
  readonly groupBaseline?: boolean;
  /** The coach's scale, which the outcome reward uses too: success = max, failure = min. @default {min: 0, max: 10} */
  readonly scale?: { readonly min: number; readonly max: number };
  /**
   * A study knob: corrupts each verdict's score before it becomes a reward (flips, a category bias);
   * `scores` keep the coach's own. Flips are keyed by the action's run, episode, attempt and index.
   */
  readonly coachNoise?: CoachNoise;
}

/**
 * Turns a rollout run into per-role training samples (DESIGN.md decision 9, reference/mappa-method.md §6.1):
 * one action = one sample whose prompt is the exact context the role saw for that action and whose
 * completion is the exact ids sampled, with reward `(1 − w)·(score·scale + offset) + w·(outcome·scale + offset)`,
 * where `outcome` is the scale's max for a successful episode and its min otherwise and `w` is
 * `reward.outcome_weight`. Only the last attempt of each finished episode counts. An action is masked
 * (never sent) when its verdict is unscored or missing while `w < 1`, when its episode was not graded
 * while `w > 0` (`grader_failed` when the grader could not grade it for an infrastructure reason: a
 * grader failure is not the agents' failure, DESIGN.md decision 11), when it has no token ids (the model call failed), when it was sampled at another policy
 * version, or when it was truncated and `maskTruncated` is set. The group id is the task, so the
 * trainer's group baseline compares samples of one task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSamples } from "./samples.ts";
 * const out = buildSamples([], new Map(), {
 *   runId: "r", versions: { solver: 0 }, maskTruncated: false,
 *   reward: { scale: 0.1, offset: 0, unscored: "mask", outcome_weight: 0 },
 * });
 * assert.deepEqual(out.solver!.samples, []);
 * ```
 */
export function buildSamples(
  events: readonly RunEvent[],
  /** Verdicts by `verdictKey`, as a score layer is read (training/run_stats.ts). */
  verdicts: ReadonlyMap<string, Verdict>,
  options: BuildSamplesOptions,
): Record<string, RoleSamples> {
  const scale = options.scale ?? { min: 0, max: 10 };
  const w = options.reward.outcome_weight;
  const map = (score: number) =>
    score * options.reward.scale + options.reward.offset;
  const started = new Map<string, EpisodeStarted>();
  const finished = new Map<string, EpisodeFinished>();
  for (const e of events) {
    if (e.kind === "episode_started") started.set(e.episode_id, e);
    if (e.kind === "episode_finished") finished.set(e.episode_id, e);
  }
  const out: Record<string, RoleSamples> = {};
  for (const role of Object.keys(options.versions)) {
    out[role] = {
      samples: [],
      masked: {},
      scores: [],
      scoresByCategory: {},
      completionTokens: 0,
    };
  }
  for (const e of events) {
    if (e.kind !== "action" || e.role === null) continue;
    const bucket = out[e.role];
    if (bucket === undefined) continue;
    const end = finished.get(e.episode_id);
    if (end === undefined || end.attempt !== e.attempt) continue;
    const mask = (reason: MaskReason) => {
      bucket.masked[reason] = (bucket.masked[reason] ?? 0) + 1;
    };
    const verdict = verdicts.get(verdictKey(e));
    const score = verdict?.status === "scored" ? verdict.score : null;
    const category = started.get(e.episode_id)?.category ?? "(none)";
    if (score !== null) {
      bucket.scores.push(score);
      (bucket.scoresByCategory[category] ??= []).push(score);
    }
    const call = e.model_call;
    const prompt = call.prompt_token_ids;
    const completion = call.completion_token_ids;
    if (
      !call.ok || !prompt || !completion || prompt.length === 0 ||
      completion.length === 0
    ) {
      mask("no_tokens");
      continue;
    }
    bucket.completionTokens += completion.length;
    const version = call.policy_version;
    if (version === undefined || version !== options.versions[e.role]) {
      mask("stale");
      continue;
    }
    if (options.maskTruncated && call.finish_reason === "length") {
      mask("truncated");
      continue;
    }
    if (w < 1 && score === null) {
      mask("unscored");
      continue;
    }
    const outcome = end.outcome;
    if (w > 0 && outcome === undefined) {
      mask("not_graded");
      continue;
    }
    if (w > 0 && outcome?.ungraded !== undefined) {
      mask("grader_failed");
      continue;
    }
    const trained = score === null || options.coachNoise === undefined
      ? score
      : corruptScore(
        score,
        options.coachNoise,
        `${e.run_id}/${verdictKey(e)}`,
        category,
        scale,
      );
    const processPart = trained === null ? 0 : map(trained);
    const outcomePart = outcome === undefined || outcome.ungraded !== undefined
      ? 0
      : map(outcome.success ? scale.max : scale.min);
    const task = started.get(e.episode_id);
    bucket.samples.push({
      sample_id: `${options.runId}/${e.episode_id}/${e.action_index}`,
      trajectory_id: `${options.runId}/${e.episode_id}`,
      group_id: task ? `${task.split}:${task.task_id}` : e.episode_id,
      action_index: e.action_index,
      policy_version: version,
      prompt_token_ids: [...prompt],
      completion_token_ids: [...completion],
      ...(call.completion_logprobs &&
          call.completion_logprobs.length === completion.length
        ? { behavior_logprobs: [...call.completion_logprobs] }
        : {}),
      reward: (1 - w) * processPart + w * outcomePart,
    });
  }
  if (options.groupBaseline) {
    for (const bucket of Object.values(out)) {
      const sizes = new Map<string, number>();
      for (const s of bucket.samples) {
        sizes.set(s.group_id!, (sizes.get(s.group_id!) ?? 0) + 1);
      }
      const kept = bucket.samples.filter((s) => sizes.get(s.group_id!)! > 1);
      const dropped = bucket.samples.length - kept.length;
      if (dropped > 0) {
        bucket.masked.singleton_group = dropped;
        bucket.samples.splice(0, bucket.samples.length, ...kept);
      }
    }
  }
  return out;
}
