import { DETERMINISTIC_JUDGE } from "./deterministic_judge.ts";
import type { Verdict } from "./types.ts";

// Test fixtures: verdict records as a layer holds them, without a run, a judge or a rubric file.

/** Fields a fixture verdict takes; the rest are filled with a deterministic judge's defaults. */
export interface FixtureVerdict {
  readonly episode_id: string;
  readonly action_index: number;
  readonly role?: string;
  readonly attempt?: number;
  /** A number is a scored verdict; null is unscored (reason `judge_error`). */
  readonly score: number | null;
  readonly rubric?: { readonly name: string; readonly hash: string };
  readonly judge?: Partial<Verdict["judge"]>;
}

/**
 * A valid verdict record for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureVerdict } from "./score_layer_fixture.ts";
 * assert.equal(fixtureVerdict({ episode_id: "e1", action_index: 0, score: 7 }).status, "scored");
 * ```
 */
export function fixtureVerdict(f: FixtureVerdict): Verdict {
  const scored = f.score !== null;
  return {
    run_id: "demo__0__1",
    episode_id: f.episode_id,
    attempt: f.attempt ?? 1,
    action_index: f.action_index,
    role: f.role ?? "solver",
    rubric: f.rubric ?? { name: "math", hash: "aaaaaaaaaaaa" },
    status: scored ? "scored" : "unscored",
    raw_score: f.score,
    score: f.score,
    ...(scored ? {} : { reason: "judge_error" as const }),
    reasoning: scored ? "fixture" : "the judge failed",
    blame: null,
    applied: [],
    judge: {
      ...DETERMINISTIC_JUDGE,
      ...f.judge,
    },
    ts: "2025-01-01T00:00:00.000Z",
  };
}
