import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cohenKappa,
  kendallTauB,
  krippendorffAlpha,
  mean,
  pearson,
  spearman,
  summarize,
} from "./stats.ts";

function near(actual: number | null, expected: number, digits = 9) {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(
    Math.abs(actual - expected) < 10 ** -digits,
    `expected ${expected}, got ${actual}`,
  );
}

Deno.test("summarize() gives n, mean, sample sd, standard error and type-7 quartiles", () => {
  // xs = 2 4 4 4 5 5 7 9: Σ = 40, mean 5; Σ(x − 5)² = 9+1+1+1+0+0+4+16 = 32; sd = √(32/7) = 2.138090
  // sem = sd/√8 = 0.755929; q1 at position 7·0.25 = 1.75 → 4 + 0.75·(4 − 4) = 4; median at 3.5 → (4+5)/2
  // = 4.5; q3 at 5.25 → 5 + 0.25·(7 − 5) = 5.5.
  const s = summarize([9, 2, 4, 4, 4, 5, 5, 7]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  near(s.sd, Math.sqrt(32 / 7));
  near(s.sem, Math.sqrt(32 / 7) / Math.sqrt(8));
  assert.deepEqual([s.min, s.q1, s.median, s.q3, s.max], [2, 4, 4.5, 5.5, 9]);
  assert.deepEqual(summarize([3]), {
    n: 1,
    mean: 3,
    sd: null,
    sem: null,
    min: 3,
    q1: 3,
    median: 3,
    q3: 3,
    max: 3,
  });
  assert.equal(mean([]), null);
});

Deno.test("summarize() quartiles equal the type-7 definition for any sample", () => {
  // Type 7: h = (n − 1)q, then x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋ + 1] − x[⌊h⌋]) over the sorted sample.
  function type7(sorted: readonly number[], q: number): number {
    const h = (sorted.length - 1) * q;
    const i = Math.floor(h);
    const lo = sorted[i]!;
    return lo + (h - i) * (sorted[Math.min(i + 1, sorted.length - 1)]! - lo);
  }
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -20, max: 20 }), {
        minLength: 1,
        maxLength: 30,
      }),
      (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const s = summarize(xs);
        for (
          const [got, q] of [[s.q1, 0.25], [s.median, 0.5], [
            s.q3,
            0.75,
          ]] as const
        ) {
          assert.ok(
            Math.abs(got! - type7(sorted, q)) < 1e-9,
            `q=${q} of ${sorted}`,
          );
        }
      },
    ),
  );
});

Deno.test("spearman() averages tied ranks (hand-computed)", () => {
  // x = 1 2 3 4 5 → ranks 1 2 3 4 5; y = 2 1 4 4 5 → ranks 2 1 3.5 3.5 5 (the two 4s share (3+4)/2).
  // Both rank means are 3. dx = −2 −1 0 1 2; dy = −1 −2 0.5 0.5 2.
  // Σ dx·dy = 2 + 2 + 0 + 0.5 + 4 = 8.5; Σ dx² = 10; Σ dy² = 1 + 4 + 0.25 + 0.25 + 4 = 9.5.
  // ρ = 8.5 / √(10 · 9.5) = 8.5 / √95 = 0.872082; the no-ties shortcut 1 − 6·2.5/120 = 0.875 would be off.
  near(spearman([1, 2, 3, 4, 5], [2, 1, 4, 4, 5]), 8.5 / Math.sqrt(95));
  near(spearman([1, 2, 3, 4, 5], [2, 1, 4, 4, 5]), 0.872082, 6);
  assert.equal(spearman([1, 2, 3], [5, 5, 5]), null);
  assert.equal(spearman([1], [1]), null);
  assert.throws(() => spearman([1, 2], [1]), RangeError);
});

Deno.test("pearson() of a hand-computed sample", () => {
  // x = 1 2 3, y = 1 3 2: dx = −1 0 1, dy = −1 1 0; Σ dx·dy = 1; Σ dx² = 2; Σ dy² = 2 → r = 1/2.
  near(pearson([1, 2, 3], [1, 3, 2]), 0.5);
});

Deno.test("kendallTauB() corrects for ties in both samples (hand-computed)", () => {
  // x = 1 2 2 3 4, y = 1 3 2 3 2; the 10 pairs (i, j):
  //   (1,2) (1,3) (1,4) (1,5) (3,4) concordant: C = 5
  //   (2,5): x 2 < 4, y 3 > 2; (4,5): x 3 < 4, y 3 > 2 → discordant: D = 2
  //   (2,3): tied in x only; (2,4) and (3,5): tied in y only
  // n₀ = 10, n₁ (tied in x) = 1, n₂ (tied in y) = 2.
  // τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂)) = 3 / √(9 · 8) = 3 / √72 = 0.353553.
  near(kendallTauB([1, 2, 2, 3, 4], [1, 3, 2, 3, 2]), 3 / Math.sqrt(72));
  // x = 1 2 2 3, y = 1 3 2 3: C = 4, D = 0, one pair tied in x, one in y → 4 / √(5 · 5) = 0.8.
  near(kendallTauB([1, 2, 2, 3], [1, 3, 2, 3]), 0.8);
  assert.equal(kendallTauB([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(kendallTauB([4, 4, 4], [1, 2, 3]), null);
});

Deno.test("kendallTauB() in O(n log n) equals the pair-by-pair definition", () => {
  const bruteForce = (x: number[], y: number[]) => {
    let s = 0, tx = 0, ty = 0;
    const n0 = (x.length * (x.length - 1)) / 2;
    for (let i = 0; i < x.length; i++) {
      for (let j = i + 1; j < x.length; j++) {
        const a = Math.sign(x[i]! - x[j]!);
        const b = Math.sign(y[i]! - y[j]!);
        s += a * b;
        if (a === 0) tx++;
        if (b === 0) ty++;
      }
    }
    const d = Math.sqrt((n0 - tx) * (n0 - ty));
    return d === 0 ? null : s / d;
  };
  const pairs = fc.array(
    fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
    { maxLength: 40 },
  );
  fc.assert(fc.property(pairs, (ps) => {
    const x = ps.map((p) => p[0]);
    const y = ps.map((p) => p[1]);
    const fast = kendallTauB(x, y);
    const slow = ps.length < 2 ? null : bruteForce(x, y);
    if (fast === null || slow === null) return fast === slow;
    return Math.abs(fast - slow) < 1e-12;
  }));
});

Deno.test("cohenKappa() on a 3x3 table, unweighted and weighted (hand-computed)", () => {
  // Rater A in rows, rater B in columns, categories 0 1 2; N = 50.
  //        B=0 B=1 B=2 | row
  //   A=0   16   3   1 |  20
  //   A=1    2  12   6 |  20
  //   A=2    2   0   8 |  10
  //   col   20  15  15 |  50
  // Unweighted: p_o = (16 + 12 + 8)/50 = 0.72; p_e = (20·20 + 20·15 + 10·15)/50² = 850/2500 = 0.34;
  //   κ = (0.72 − 0.34)/(1 − 0.34) = 0.38/0.66 = 19/33 = 0.575758.
  // Expected counts e_ij = row_i · col_j / 50 off the diagonal: e01 = 6, e02 = 6, e10 = 8, e12 = 6, e20 = 4,
  //   e21 = 3.
  // Quadratic, w = (i − j)²: Σ w·o = 3·1 + 1·4 + 2·1 + 6·1 + 2·4 + 0·1 = 23;
  //   Σ w·e = 6·1 + 6·4 + 8·1 + 6·1 + 4·4 + 3·1 = 63; κ_w = 1 − 23/63 = 40/63 = 0.634921.
  // Linear, w = |i − j|: Σ w·o = 3 + 2 + 2 + 6 + 4 + 0 = 17; Σ w·e = 6 + 12 + 8 + 6 + 8 + 3 = 43;
  //   κ_w = 1 − 17/43 = 26/43 = 0.604651.
  const table = [[16, 3, 1], [2, 12, 6], [2, 0, 8]];
  const a: number[] = [];
  const b: number[] = [];
  table.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let k = 0; k < count; k++) {
        a.push(i);
        b.push(j);
      }
    })
  );
  near(cohenKappa(a, b), 19 / 33);
  near(cohenKappa(a, b, { weights: "quadratic" }), 40 / 63);
  near(cohenKappa(a, b, { weights: "linear" }), 26 / 43);
  const names = ["low", "mid", "high"];
  near(cohenKappa(a.map((i) => names[i]!), b.map((j) => names[j]!)), 19 / 33);
});

Deno.test("cohenKappa() weighs 0-10 scores by their distance", () => {
  // A = 0 10 5 5, B = 0 10 5 10: the only disagreement is (5, 10), weight (10 − 5)² = 25 → Σ w·o = 25.
  // Marginals A {0:1, 5:2, 10:1}, B {0:1, 5:1, 10:2}; e = a·b/4 times weight:
  //   (0,5) 1·1/4·25 = 6.25, (0,10) 1·2/4·100 = 50, (5,0) 2·1/4·25 = 12.5, (5,10) 2·2/4·25 = 25,
  //   (10,0) 1·1/4·100 = 25, (10,5) 1·1/4·25 = 6.25 → Σ w·e = 125; κ_w = 1 − 25/125 = 0.8.
  assert.equal(
    cohenKappa([0, 10, 5, 5], [0, 10, 5, 10], { weights: "quadratic" }),
    0.8,
  );
  // Unweighted, the same table: p_o = 3/4; p_e = (1·1 + 2·1 + 1·2)/16 = 5/16; κ = (12/16 − 5/16)/(11/16)
  // = 7/11.
  near(cohenKappa([0, 10, 5, 5], [0, 10, 5, 10]), 7 / 11);
  assert.equal(cohenKappa([3, 3], [3, 3]), null);
  assert.equal(cohenKappa([], []), null);
  assert.throws(
    () => cohenKappa(["a"], ["b"], { weights: "quadratic" }),
    TypeError,
  );
});

Deno.test("krippendorffAlpha() on a small matrix with a missing value (hand-computed)", () => {
  // Raters × units: r1 = 1 2 3 ·, r2 = 1 3 3 4. Unit 4 has one value and is not pairable.
  // Coincidences (each unit has m = 2, so each ordered pair adds 1/(2 − 1) = 1):
  //   o11 = 2 (unit 1), o23 = o32 = 1 (unit 2), o33 = 2 (unit 3); n1 = 2, n2 = 1, n3 = 3, n = 6.
  // Interval, δ² = (c − k)²: Σ o·δ² = 1 + 1 = 2;
  //   Σ n_c·n_k·δ² = 2·(2·1·1 + 2·3·4 + 1·3·1) = 2·29 = 58; α = 1 − (6 − 1)·2/58 = 48/58 = 0.827586.
  // Ordinal, δ²(c,k) = (Σ_{g=c..k} n_g − (n_c + n_k)/2)²: δ²(1,2) = (3 − 1.5)² = 2.25,
  //   δ²(1,3) = (6 − 2.5)² = 12.25, δ²(2,3) = (4 − 2)² = 4; Σ o·δ² = 2·4 = 8;
  //   Σ n·n·δ² = 2·(2·1·2.25 + 2·3·12.25 + 1·3·4) = 2·90 = 180; α = 1 − 5·8/180 = 7/9 = 0.777778.
  const data = [[1, 2, 3, null], [1, 3, 3, 4]];
  near(krippendorffAlpha(data, "interval"), 48 / 58);
  near(krippendorffAlpha(data, "ordinal"), 7 / 9);
  // Nominal, δ = 1 when c ≠ k: Σ o·δ = 2; Σ n·n·δ = 6² − (2² + 1² + 3²) = 22; α = 1 − 5·2/22 = 6/11.
  near(krippendorffAlpha(data, "nominal"), 6 / 11);
});

Deno.test("krippendorffAlpha() reproduces Krippendorff (2011)'s worked example", () => {
  // "Computing Krippendorff's Alpha-Reliability" (2011), section C: 4 observers, 12 units, missing values.
  // Pairable units (m_u ≥ 2) give the coincidence matrix (unit 12 has one value):
  //   o11 = 3 (u1) + 2 (u8) + 2 (u11) = 7   o12 = 1/3 (u6) + 1 (u8) = 4/3   o13 = o14 = 1/3 (u6)
  //   o22 = 2 (u2) + 4 (u5) + 4 (u9) = 10   o23 = 1 (u2) + 1/3 (u6) = 4/3   o24 = 1/3   o34 = 1/3
  //   o33 = 4 + 4 (u3, u4) = 8   o44 = 4 (u7)   o55 = 3 (u10)
  //   n1 = 9, n2 = 13, n3 = 10, n4 = 5, n5 = 3, n = 40 (as published).
  // Nominal: Σ_{c≠k} o = n − Σ o_cc = 40 − 32 = 8; Σ_{c≠k} n_c n_k = 40² − (81+169+100+25+9) = 1216;
  //   α = 1 − 39·8/1216 = 0.743421 (published 0.743).
  // Interval (factors of 2 for the symmetric halves cancel): Σ_{c<k} o·(c−k)² =
  //   4/3·1 + 1/3·4 + 1/3·9 + 4/3·1 + 1/3·4 + 1/3·1 = 26/3; Σ_{c<k} n_c n_k (c−k)² = 117 + 360 + 405 + 432
  //   + 130 + 260 + 351 + 50 + 120 + 15 = 2240; α = 1 − 39·(26/3)/2240 = 1 − 338/2240 = 0.849107 (0.849).
  // Ordinal: δ² for (1,2) 121, (1,3) 506.25, (1,4) 900, (1,5) 1156, (2,3) 132.25, (2,4) 361, (2,5) 529,
  //   (3,4) 56.25, (3,5) 132.25, (4,5) 16; Σ_{c<k} o·δ² = (484 + 506.25 + 900 + 529 + 361 + 56.25)/3 = 945.5;
  //   Σ_{c<k} n n δ² = 14157 + 45562.5 + 40500 + 31212 + 17192.5 + 23465 + 20631 + 2812.5 + 3967.5 + 240
  //   = 199740; α = 1 − 39·945.5/199740 = 0.815387 (published 0.815).
  const _ = null;
  const data = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
  ];
  near(krippendorffAlpha(data, "nominal"), 1 - (39 * 8) / 1216);
  near(krippendorffAlpha(data, "interval"), 1 - 338 / 2240);
  near(krippendorffAlpha(data, "ordinal"), 1 - (39 * 945.5) / 199740);
  assert.equal(krippendorffAlpha(data, "nominal")!.toFixed(3), "0.743");
  assert.equal(krippendorffAlpha(data, "interval")!.toFixed(3), "0.849");
  assert.equal(krippendorffAlpha(data, "ordinal")!.toFixed(3), "0.815");
});

Deno.test("krippendorffAlpha() is null without pairable or varying values", () => {
  assert.equal(krippendorffAlpha([[1, null], [null, 2]], "interval"), null);
  assert.equal(krippendorffAlpha([[4, 4], [4, 4]], "ordinal"), null);
  assert.equal(krippendorffAlpha([], "nominal"), null);
  assert.throws(
    () => krippendorffAlpha([[1, NaN], [1, 2]], "interval"),
    RangeError,
  );
});
