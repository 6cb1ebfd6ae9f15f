import assert from "node:assert/strict";
import {
  bands,
  meanSuccess,
  medianReached,
  stepsToThreshold,
  summarizeSteps,
} from "./study_stats.ts";

const run = (pairs: [number, number][]) =>
  pairs.map(([step, success_rate]) => ({ step, success_rate }));

Deno.test("stepsToThreshold() is the first eval step at or above the threshold, in step order", () => {
  const evals = run([[6, 0.97], [0, 0.01], [3, 0.5]]);
  assert.equal(stepsToThreshold(evals, 0.5), 3);
  assert.equal(stepsToThreshold(evals, 0.95), 6);
  assert.equal(stepsToThreshold(evals, 0.99), null);
  assert.equal(stepsToThreshold([], 0.5), null);
  // a dip after crossing does not move the first crossing
  assert.equal(stepsToThreshold(run([[0, 0], [3, 0.6], [6, 0.2]]), 0.5), 3);
});

Deno.test("bands() gives mean, min and max per eval step over seeds", () => {
  const b = bands([
    run([[0, 0], [3, 0.5]]),
    run([[0, 0.1], [3, 1]]),
    run([[0, 0.2]]),
  ]);
  assert.deepEqual(b.map((p) => [p.step, p.n, p.min, p.max]), [
    [0, 3, 0, 0.2],
    [3, 2, 0.5, 1],
  ]);
  assert.ok(Math.abs(b[0]!.mean - 0.1) < 1e-12);
  assert.equal(b[1]!.mean, 0.75);
});

Deno.test("medianReached() ranks not reached (null) above every step", () => {
  assert.equal(medianReached([3, 9, 6]), 6);
  assert.equal(medianReached([3, null, 6]), 6);
  assert.equal(medianReached([null, null, 6]), null);
  assert.equal(medianReached([3, 6, 9, 12]), 7.5);
  assert.equal(medianReached([3, 6, null, null]), null);
  assert.equal(medianReached([]), null);
});

Deno.test("summarizeSteps() counts seeds that reached it and leaves max open when one did not", () => {
  assert.deepEqual(summarizeSteps([9, 3, 6]), {
    reached: 3,
    of: 3,
    median: 6,
    min: 3,
    max: 9,
  });
  assert.deepEqual(summarizeSteps([9, null, 6]), {
    reached: 2,
    of: 3,
    median: 9,
    min: 6,
    max: null,
  });
  assert.deepEqual(summarizeSteps([null, null]), {
    reached: 0,
    of: 2,
    median: null,
    min: null,
    max: null,
  });
});

Deno.test("meanSuccess() averages a run's evals", () => {
  assert.equal(meanSuccess(run([[0, 0], [3, 0.5], [6, 1]])), 0.5);
  assert.equal(meanSuccess([]), null);
});
