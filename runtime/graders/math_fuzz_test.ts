import assert from "node:assert/strict";
import { mathEqual, normalizeAnswer } from "./math_answer.ts";
import {
  answer,
  familyTime,
  knownPair,
  Rng,
  scaled,
  SCALED_FAMILIES,
  selfContained,
  symmetricByDocs,
} from "../../bench/math_fuzz.ts";

// Agents write the answers this grader reads: one that makes it throw, hang or take super-linear time crashes or
// stalls a run. Generated answers from the grammar the grader reads (bench/math_fuzz.ts: numbers in every notation,
// \frac, \sqrt, \boxed, sets, intervals, matrices, variables, nested and unbalanced braces and brackets, bars, runs of
// digits and operators, unicode minus, prose), with a fixed seed so a failure replays. Timing is asserted only as
// ratios: a call against a typical call, an input of size 4n against size n. The longer study is
// `deno run -A bench/math_fuzz.ts --seconds 60`.

const SEED = 20261208;
const PAIRS = 3000;

/** Milliseconds of a typical comparison with a variable (parse and four sample points), the unit of time below. */
function unit(): number {
  mathEqual("x", "x+1"); // loads the parser
  const times: number[] = [];
  for (let k = 0; k < 15; k++) {
    const start = performance.now();
    mathEqual("\\frac{1}{2}+x^2", "0.5+x\\cdot x");
    times.push(performance.now() - start);
  }
  return Math.max(0.05, times.sort((a, b) => a - b)[7]!);
}

/** The best of three timings of both directions, so a GC pause or a busy machine does not fail a case. */
function retimed(a: string, b: string): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const start = performance.now();
    mathEqual(a, b);
    mathEqual(b, a);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

Deno.test("mathEqual() on generated answers: never throws, a boolean, symmetric, known verdicts, within budget", () => {
  const u = unit();
  // A few hundred typical calls: the exponential parses this found took 200 ms to a minute.
  const budget = 400 * u;
  const r = new Rng(SEED);
  for (let k = 0; k < PAIRS; k++) {
    const known = k % 3 === 0;
    const [a, b, verdict] = known
      ? knownPair(r)
      : [answer(r, 1 + r.int(4)), answer(r, 1 + r.int(4)), undefined];
    const start = performance.now();
    let ab: unknown;
    let ba: unknown;
    try {
      ab = mathEqual(a, b);
      ba = mathEqual(b, a);
      assert.equal(typeof normalizeAnswer(a), "string");
    } catch (e) {
      assert.fail(
        `case ${k} threw on ${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${e}`,
      );
    }
    const ms = performance.now() - start;
    const label = `case ${k}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    assert.equal(typeof ab, "boolean", label);
    assert.equal(typeof ba, "boolean", label);
    if (symmetricByDocs(a, b)) assert.equal(ab, ba, `asymmetric, ${label}`);
    if (verdict !== undefined) assert.equal(ab, verdict, label);
    if (selfContained(a)) {
      assert.equal(
        mathEqual(a, a + "+1"),
        false,
        `equals itself plus one: ${a}`,
      );
    }
    if (ms > budget) {
      const again = retimed(a, b);
      assert.ok(
        again <= budget,
        `${label} took ${again} ms, over ${budget} (400 typical calls)`,
      );
    }
  }
});

Deno.test("mathEqual() takes linear time on hostile families of answers (size 4n against n)", () => {
  const u = unit();
  // Linear growth is 4x; quadratic 16x. The floor keeps timer noise at tiny sizes from counting.
  const floor = 20 * u;
  for (let k = 0; k < SCALED_FAMILIES; k++) {
    // 1,600 characters is under the 2,000 compared; 20,000 and 80,000 are searched as texts only.
    for (const n of [400, 20_000]) {
      const small = familyTime(k, n, 2);
      const big = familyTime(k, n * 4, 2);
      assert.ok(
        big <= 12 * Math.max(small, floor),
        `family ${k} (${JSON.stringify(scaled(k, 40))}…): ${
          small.toFixed(2)
        } ms at ${n}, ${big.toFixed(2)} ms at ${n * 4}`,
      );
    }
  }
});
