import assert from "node:assert/strict";
import { corruptScore } from "./coach_noise.ts";

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
