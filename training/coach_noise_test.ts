import assert from "node:assert/strict";
import { corruptScore } from "./coach_noise.ts";
import { buildSamples } from "./samples.ts";
import {
  action,
  finished,
  started,
  verdict,
  verdictMap,
} from "../tests/fixtures/training_fixtures.ts";

const SCALE = { min: 0, max: 10 };

Deno.test("corruptScore() flips the same verdicts for the same seed, other ones for another seed", () => {
  const keys = Array.from({ length: 500 }, (_, i) => `step_0001/ep${i}#1#0`);
  const run = (seed: number) =>
    keys.map((k) => corruptScore(10, { flip: 0.3, seed }, k, "x", SCALE));
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

Deno.test("corruptScore() flips at the asked rate (within 3 standard errors over 20,000 verdicts)", () => {
  const n = 20_000;
  for (const p of [0, 0.1, 0.2, 0.4, 1]) {
    let flipped = 0;
    for (let i = 0; i < n; i++) {
      if (
        corruptScore(10, { flip: p, seed: 3 }, `r/e${i}#1#0`, "x", SCALE) === 0
      ) flipped++;
    }
    const se = Math.sqrt((p * (1 - p)) / n);
    assert.ok(
      Math.abs(flipped / n - p) <= 3 * se + 1e-9,
      `flip ${p}: rate ${flipped / n}`,
    );
  }
});

Deno.test("corruptScore() maps a flipped score to max + min − score", () => {
  const scale = { min: 1, max: 5 };
  assert.equal(corruptScore(2, { flip: 1, seed: 0 }, "k", "x", scale), 4);
  assert.equal(corruptScore(2, { flip: 0, seed: 0 }, "k", "x", scale), 2);
});

Deno.test("corruptScore() adds the bias to its category only, clamped to the scale", () => {
  const noise = { flip: 0, bias: { category: "tools", points: 2 }, seed: 0 };
  assert.equal(corruptScore(3, noise, "k", "tools", SCALE), 5);
  assert.equal(corruptScore(9, noise, "k", "tools", SCALE), 10);
  assert.equal(corruptScore(3, noise, "k", "food", SCALE), 3);
  const down = { flip: 0, bias: { category: "tools", points: -2 }, seed: 0 };
  assert.equal(corruptScore(1, down, "k", "tools", SCALE), 0);
});

Deno.test("buildSamples() trains on the corrupted score and keeps the coach's own in scores", () => {
  const events = [
    started("e1", { task_id: "t1", category: "tools" }),
    action("e1", "drafter", 0),
    action("e1", "finisher", 1),
    finished("e1", { success: false }),
  ];
  const verdicts = verdictMap([
    verdict("e1", "drafter", 0, 8),
    verdict("e1", "finisher", 1, 3),
  ]);
  const base = {
    runId: "r1",
    versions: { drafter: 0, finisher: 0 },
    reward: {
      scale: 0.1,
      offset: 0,
      unscored: "mask" as const,
      outcome_weight: 0,
    },
    maskTruncated: false,
  };
  const flipped = buildSamples(events, verdicts, {
    ...base,
    coachNoise: { flip: 1, seed: 0 },
  });
  assert.ok(Math.abs(flipped.drafter!.samples[0]!.reward - 0.2) < 1e-9);
  assert.ok(Math.abs(flipped.finisher!.samples[0]!.reward - 0.7) < 1e-9);
  assert.deepEqual(flipped.drafter!.scores, [8]);
  const biased = buildSamples(events, verdicts, {
    ...base,
    coachNoise: { flip: 0, bias: { category: "tools", points: 1 }, seed: 0 },
  });
  assert.ok(Math.abs(biased.drafter!.samples[0]!.reward - 0.9) < 1e-9);
  const clean = buildSamples(events, verdicts, base);
  assert.ok(Math.abs(clean.drafter!.samples[0]!.reward - 0.8) < 1e-9);
});
