import * as ss from "simple-statistics";
import { z } from "zod";
import { parseJsonLine, readJsonLines } from "../runtime/mod.ts";

const Mean = z.number().nullable();

/** Outcome figures of a set of episodes: how many were graded, the success rate, each metric's mean. */
export const OutcomeStatsSchema = z.strictObject({
  episodes: z.number().int().min(0),
  graded: z.number().int().min(0),
  /** Episodes the grader could not grade for an infrastructure reason: not in `graded`, masked from rewards. */
  ungraded: z.number().int().min(0).optional(),
  /** Episodes that failed before grading: counted in the means at the spec's fair values, as no success. */
  failed: z.number().int().min(0).optional(),
  success_rate: Mean,
  /** Metric -> mean over the metrics comparable across tasks (`correct`, tabular `score`, `valid_submission`). */
  metrics: z.record(z.string(), z.number()),
});
export type OutcomeStats = z.infer<typeof OutcomeStatsSchema>;

/** One trained role in one step. */
export const RoleStepSchema = z.strictObject({
  version_before: z.number().int().min(0),
  version: z.number().int().min(0),
  samples: z.number().int().min(0),
  masked: z.record(z.string(), z.number().int()),
  reward_mean: Mean,
  /** Mean coach score of its scored actions (sent or not). */
  score_mean: Mean,
  scored: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  /** Why no update was made: no usable sample, or the trainer found nothing to train (every sample masked: `no_signal`). */
  skipped: z.enum(["no_samples", "no_signal"]).optional(),
  /** The trainer's `done` metrics. */
  train: z.record(z.string(), z.number().nullable()).optional(),
});
export type RoleStep = z.infer<typeof RoleStepSchema>;

/** Coach score and success per task category: the drift the MAPPA authors saw (their coach favoured regression). */
export const CategoryStatsSchema = z.record(
  z.string(),
  z.strictObject({
    score_mean: Mean,
    scored: z.number().int().min(0),
    success_rate: Mean,
  }),
);

/** Where a step's rollouts of trained roles came from when an inference engine served them (train.rollout). */
export const RolloutReportSchema = z.strictObject({
  engine: z.literal("vllm"),
  /** Requests of trained roles each engine URL served in the step. */
  requests: z.record(z.string(), z.number().int().min(0)),
  /** Role -> the adapter that served it and its probe: mean and largest |Δ logprob| against the trainer. */
  roles: z.record(
    z.string(),
    z.strictObject({
      name: z.string(),
      version: z.number().int().min(0),
      mean_abs_delta: z.number(),
      max_abs_delta: z.number(),
      /** The version the probe was also scored under (`v<k-1>` or the base model) and its mean |Δ|: near 0, the probe cannot tell them apart. */
      against: z.string(),
      against_mean_abs_delta: z.number(),
      /** Whether the version before was measurably different on the probe (so staleness was checked). */
      discriminative: z.boolean().optional(),
    }),
  ),
});
export type RolloutReport = z.infer<typeof RolloutReportSchema>;

/** A line of a training run's `metrics.jsonl`: one per finished step, one per evaluation. */
export const MetricsLineSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("step"),
    step: z.number().int().min(1),
    ts: z.string(),
    seconds: z.number(),
    /** The rollout run, relative to the training run. */
    run: z.string(),
    roles: z.record(z.string(), RoleStepSchema),
    outcome: OutcomeStatsSchema,
    categories: CategoryStatsSchema,
    /** The reward mapping in force (outcome_weight 1 = shared outcome reward only). */
    outcome_weight: z.number(),
    rollout: RolloutReportSchema.optional(),
  }),
  z.strictObject({
    type: z.literal("eval"),
    /** Steps done when it ran: 0 is before training. */
    step: z.number().int().min(0),
    ts: z.string(),
    seconds: z.number(),
    split: z.string(),
    run: z.string(),
    versions: z.record(z.string(), z.number().int().min(0)),
    outcome: OutcomeStatsSchema,
    /** Role -> mean coach score, when the eval was coached. */
    roles: z.record(
      z.string(),
      z.strictObject({ score_mean: Mean, scored: z.number().int() }),
    ),
    categories: CategoryStatsSchema,
  }),
]);
/** A line of `metrics.jsonl`: a step or an evaluation. */
export type MetricsLine = z.infer<typeof MetricsLineSchema>;
export type StepLine = Extract<MetricsLine, { type: "step" }>;
export type EvalLine = Extract<MetricsLine, { type: "eval" }>;

/** A `metrics.jsonl` that cannot be read: which line and why. */
export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricsError";
  }
}

/**
 * Reads a training run's `metrics.jsonl`; a torn last line (a killed run) is dropped, any other bad line
 * throws {@linkcode MetricsError} naming it. A missing file is an empty list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMetrics } from "./metrics.ts";
 * assert.deepEqual(await readMetrics(await Deno.makeTempDir()), []);
 * ```
 */
export async function readMetrics(trainDir: string): Promise<MetricsLine[]> {
  const path = `${trainDir}/metrics.jsonl`;
  const lines = await readJsonLines(path);
  return (lines ?? []).map(([n, line]) => {
    const parsed = parseJsonLine(MetricsLineSchema, line);
    if (!parsed?.success) {
      throw new MetricsError(
        `Cannot read ${path} line ${n}: it is not a step or eval record${
          parsed
            ? ` (${parsed.error.issues[0]?.path.join(".")}: ${
              parsed.error.issues[0]?.message
            })`
            : ""
        }; it was written by another version of mappa, or edited`,
      );
    }
    return parsed.data;
  });
}

/** The mean of some numbers, or null for none. */
export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : ss.mean(values as number[]);
}
