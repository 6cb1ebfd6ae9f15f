import assert from "node:assert/strict";
import { mathEqual, normalizeAnswer } from "./math_answer.ts";
import {
  answer,
  knownPair,
  Rng,
  selfContained,
  symmetricByDocs,
} from "../../bench/math_fuzz.ts";

// Agents write the answers this grader reads: one that makes it throw, hang or take super-linear time crashes or
// stalls a run. Generated answers from the grammar the grader reads (bench/math_fuzz.ts: numbers in every notation,
// \frac, \sqrt, \boxed, sets, intervals, matrices, variables, nested and unbalanced braces and brackets, bars, runs of
// digits and operators, unicode minus, prose), with a fixed seed so a failure replays. The one timing check is a
// hang guard with a wide margin, as a ratio to a typical call measured in the same run (a stall this found took
// 27 s). Growth on hostile families (size 4n against n) is a speed target: it lives in the study,
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
