// The statistics of `deno task study`: small code over a handful of seeds (no statistics package is pinned
// in deno.json, and medians, ranges and first crossings need none). "Not reached" is kept as null and
// ranked after every reached value, never dropped, so a mode that fails on some seeds is not flattered.

/** One evaluation of one run: the step it followed and its success rate. */
export interface EvalPoint {
  readonly step: number;
  readonly success_rate: number;
}

/** Per eval step, over the seeds: mean and min–max band; `n` seeds had an eval at that step. */
export interface BandPoint {
  readonly step: number;
  readonly n: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Median and range of steps-to-threshold over seeds; null where a seed never reached it. */
export interface StepsSummary {
  /** Seeds that reached the threshold, of `of`. */
  readonly reached: number;
  readonly of: number;
  /** null when more than half the seeds did not reach it (the median seed did not). */
  readonly median: number | null;
  readonly min: number | null;
  /** null when some seed did not reach it. */
  readonly max: number | null;
}

/**
 * The first eval step at which success reached `threshold` (≥), or null when no eval did.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepsToThreshold } from "./study_stats.ts";
 * const evals = [{ step: 0, success_rate: 0 }, { step: 3, success_rate: 0.6 }, { step: 6, success_rate: 1 }];
 * assert.equal(stepsToThreshold(evals, 0.5), 3);
 * assert.equal(stepsToThreshold(evals, 1.5), null);
 * ```
 */
export function stepsToThreshold(
  evals: readonly EvalPoint[],
  threshold: number,
): number | null {
  const sorted = [...evals].sort((a, b) => a.step - b.step);
  return sorted.find((e) => e.success_rate >= threshold)?.step ?? null;
}

/** Mean and min–max of success per eval step over runs (seeds); steps some runs lack count the others. */
export function bands(runs: readonly (readonly EvalPoint[])[]): BandPoint[] {
  const byStep = new Map<number, number[]>();
  for (const run of runs) {
    for (const e of run) {
      const at = byStep.get(e.step) ?? [];
      at.push(e.success_rate);
      byStep.set(e.step, at);
    }
  }
  return [...byStep.entries()].sort(([a], [b]) => a - b).map(([step, xs]) => ({
    step,
    n: xs.length,
    mean: xs.reduce((s, x) => s + x, 0) / xs.length,
    min: Math.min(...xs),
    max: Math.max(...xs),
  }));
}

/** The median of values where null ("not reached") ranks above every number; null if the median is null. */
export function medianReached(xs: readonly (number | null)[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) =>
    a === null ? (b === null ? 0 : 1) : b === null ? -1 : a - b
  );
  const mid = sorted.length / 2;
  if (sorted.length % 2 === 1) return sorted[Math.floor(mid)]!;
  const lo = sorted[mid - 1]!;
  const hi = sorted[mid]!;
  return lo === null || hi === null ? null : (lo + hi) / 2;
}

/** Median and range over seeds of each seed's steps-to-threshold (null: not reached). */
export function summarizeSteps(xs: readonly (number | null)[]): StepsSummary {
  const reached = xs.filter((x): x is number => x !== null);
  return {
    reached: reached.length,
    of: xs.length,
    median: medianReached(xs),
    min: reached.length > 0 ? Math.min(...reached) : null,
    max: reached.length === xs.length && reached.length > 0
      ? Math.max(...reached)
      : null,
  };
}

/** Mean success over a run's evals (area under its curve, per eval): one number per seed to compare modes by. */
export function meanSuccess(evals: readonly EvalPoint[]): number | null {
  if (evals.length === 0) return null;
  return evals.reduce((s, e) => s + e.success_rate, 0) / evals.length;
}
