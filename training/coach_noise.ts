/**
 * A study knob, not a training setting: corrupts the coach's verdicts before they become rewards, to
 * measure how much coach error per-action training survives (issue 15 item 4; MAPPA's coach favoured
 * regression tasks by 0.5–1.8 points). Wire format (train.json `coach_noise`), so snake_case.
 */
export interface CoachNoise {
  /** Probability that a verdict is flipped: score → max + min − score. */
  readonly flip: number;
  /** Points added to the score of actions in tasks of one category (then clamped to the scale). */
  readonly bias?: { readonly category: string; readonly points: number };
  /** Seeds the flips: the same seed flips the same verdicts. */
  readonly seed: number;
}

/** FNV-1a over the text, then a murmur3 finalizer: a uniform draw in [0, 1) per (seed, key). */
function uniform(seed: number, key: string): number {
  let h = 0x811c9dc5;
  const text = `${seed}|${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The score training reads for one verdict under `noise`: flipped with probability `noise.flip`
 * (decided by `key`, e.g. the action's sample id, so it is the same on every run with the same seed),
 * then biased by `noise.bias.points` when `category` is the biased one, clamped to the scale.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { corruptScore } from "./coach_noise.ts";
 * const scale = { min: 0, max: 10 };
 * assert.equal(corruptScore(10, { flip: 1, seed: 0 }, "a", "x", scale), 0);
 * assert.equal(corruptScore(3, { flip: 0, bias: { category: "x", points: 2 }, seed: 0 }, "a", "x", scale), 5);
 * ```
 */
export function corruptScore(
  score: number,
  noise: CoachNoise,
  key: string,
  category: string,
  scale: { readonly min: number; readonly max: number },
): number {
  let s = noise.flip > 0 && uniform(noise.seed, key) < noise.flip
    ? scale.max + scale.min - score
    : score;
  if (noise.bias !== undefined && noise.bias.category === category) {
    s = Math.min(scale.max, Math.max(scale.min, s + noise.bias.points));
  }
  return s;
}
