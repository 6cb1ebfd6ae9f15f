import assert from "node:assert/strict";
import { compareLayers } from "./compare.ts";
import { formatComparison } from "./compare_format.ts";
import { fixtureVerdict } from "../tests/fixtures/score_layer_fixture.ts";
import type { Verdict } from "../coaches/types.ts";

const A = { name: "math", hash: "aaaaaaaaaaaa" };
const B = { name: "math", hash: "bbbbbbbbbbbb" };

function v(
  rubric: typeof A,
  episode_id: string,
  action_index: number,
  role: string,
  score: number | null,
  judge: Partial<Verdict["judge"]> = {},
): Verdict {
  return fixtureVerdict({
    episode_id,
    action_index,
    role,
    score,
    rubric,
    judge: {
      kind: "llm",
      model: "judge",
      attempts: 1,
      prompt_tokens: 100,
      completion_tokens: 20,
      cost_usd: rubric === A ? 0.001 : 0.002,
      ...judge,
    },
  });
}

// e1 and e2 scored under both rubrics; e3 has one action in each layer only.
const layerA: Verdict[] = [
  v(A, "e1", 0, "solver", 8, { cache_hit: true }),
  v(A, "e1", 1, "executor", 4),
  v(A, "e1", 2, "verifier", 6),
  v(A, "e2", 0, "solver", 2),
  v(A, "e2", 1, "executor", 9),
  { ...v(A, "e2", 2, "verifier", null), reason: "budget" },
  v(A, "e3", 0, "solver", 5),
];
const layerB: Verdict[] = [
  v(B, "e1", 0, "solver", 7),
  v(B, "e1", 1, "executor", 6),
  v(B, "e1", 2, "verifier", 3),
  v(B, "e2", 0, "solver", 2),
  v(B, "e2", 1, "executor", null, { attempts: 2 }),
  v(B, "e2", 2, "verifier", 5),
  v(B, "e3", 1, "executor", 10),
];
const categories = new Map([["e1", "algebra"], ["e2", "geometry"]]);

Deno.test("compareLayers() pairs actions and correlates the scores both layers have", () => {
  const c = compareLayers(layerA, layerB, { threshold: 5, categories });
  // Paired (A, B): (8, 7) (4, 6) (6, 3) (2, 2). Ranks A 4 2 3 1, B 4 3 2 1: Σd² = 0+1+1+0 = 2, no ties,
  // ρ = 1 − 6·2/(4·15) = 0.8. Pairs: only (e1#1, e1#2) is discordant (4 < 6 but 6 > 3): τ = (5 − 1)/6.
  assert.equal(c.paired, 4);
  assert.ok(Math.abs(c.spearman! - 0.8) < 1e-12);
  assert.ok(Math.abs(c.kendall_tau_b! - 4 / 6) < 1e-12);
  // Deltas −1 +2 −3 0: mean −2/4, mean |delta| 6/4.
  assert.equal(c.mean_delta, -0.5);
  assert.equal(c.mean_abs_delta, 1.5);
  assert.deepEqual(
    c.flips.map((d) => [d.episode_id, d.action_index, d.a, d.b, d.flip]),
    [["e1", 1, 4, 6, "up"], ["e1", 2, 6, 3, "down"]],
  );
  assert.deepEqual(
    c.status_changes.map((d) => [d.episode_id, d.action_index, d.status]),
    [
      ["e2", 1, "scored_to_unscored"],
      ["e2", 2, "unscored_to_scored"],
      ["e3", 0, "only_a"],
      ["e3", 1, "only_b"],
    ],
  );
  const e2v = c.actions.find((d) =>
    d.episode_id === "e2" && d.action_index === 2
  )!;
  assert.equal(e2v.a_reason, "budget");
  assert.equal(e2v.delta, null);
  assert.equal(c.actions.length, 8);
});

Deno.test("compareLayers() gives each layer's mean per role and per task category", () => {
  const c = compareLayers(layerA, layerB, { categories });
  const row = (g: (typeof c.by_role)[number]) => [
    g.group,
    g.a.scored,
    g.a.mean,
    g.a.unscored,
    g.b.scored,
    g.b.mean,
    g.b.unscored,
  ];
  // executor A: 4, 9 → 6.5; B: 6, 10 → 8 and e2#1 unscored. solver A: 8, 2, 5 → 5; B: 7, 2 → 4.5.
  // verifier A: 6 and e2#2 unscored; B: 3, 5 → 4.
  assert.deepEqual(c.by_role.map(row), [
    ["executor", 2, 6.5, 0, 2, 8, 1],
    ["solver", 3, 5, 0, 2, 4.5, 0],
    ["verifier", 1, 6, 1, 2, 4, 0],
  ]);
  assert.deepEqual(c.by_role.map((g) => g.delta), [1.5, -0.5, -2]);
  // algebra (e1) A: 8 4 6 → 6, B: 7 6 3 → 16/3; geometry (e2) A: 2 9 → 5.5, B: 2 5 → 3.5; e3 uncategorised.
  assert.deepEqual(c.by_category.map(row), [
    ["algebra", 3, 6, 0, 3, 16 / 3, 0],
    ["geometry", 2, 5.5, 1, 2, 3.5, 1],
    [null, 1, 5, 0, 1, 10, 0],
  ]);
  const record = compareLayers(layerA, layerB, {
    categories: { e1: "algebra", e2: "geometry" },
  });
  assert.deepEqual(record.by_category, c.by_category);
});

Deno.test("compareLayers() counts judge calls and cost, leaving cache hits out", () => {
  const c = compareLayers(layerA, layerB);
  // A: 7 verdicts, 1 from the cache → 6 calls at $0.001, 600/120 tokens. B: 7 verdicts, one with 2
  // attempts → 8 calls, 7 · $0.002 = $0.014, 700/140 tokens.
  assert.equal(c.a.layer, "math@aaaaaaaaaaaa");
  assert.deepEqual(
    [c.a.verdicts, c.a.scored, c.a.unscored, c.a.judge_calls, c.a.cache_hits],
    [7, 6, 1, 6, 1],
  );
  assert.deepEqual(
    [c.b.judge_calls, c.b.prompt_tokens, c.b.completion_tokens],
    [8, 700, 140],
  );
  assert.ok(Math.abs(c.a.cost_usd - 0.006) < 1e-12);
  assert.ok(Math.abs(c.cost.delta_usd - 0.008) < 1e-12);
  assert.deepEqual(
    [
      c.cost.delta_calls,
      c.cost.delta_prompt_tokens,
      c.cost.delta_completion_tokens,
    ],
    [2, 100, 20],
  );
  const json = JSON.parse(JSON.stringify(c));
  assert.deepEqual(json, c);
});

Deno.test("formatComparison() renders totals, agreement, groups and action lists", () => {
  // Means: A (8+4+6+2+9+5)/6 = 5.67, B (7+6+3+2+5+10)/6 = 5.50.
  const text = formatComparison(
    compareLayers(layerA, layerB, { threshold: 5, categories }),
    { limit: 1 },
  );
  const lines = text.split("\n");
  assert.match(
    lines[1]!,
    /^A +math@aaaaaaaaaaaa +7 +6 +1 +5\.67 +6 +1 +600\/120 +\$0\.0060$/,
  );
  assert.match(text, /B - A: mean -0\.17, judge calls \+2, cost \+\$0\.0080/);
  assert.match(
    text,
    /4 actions scored in both: Spearman 0\.800, Kendall tau-b 0\.667, mean delta -0\.50, mean \|delta\| 1\.50/,
  );
  assert.match(text, /\nexecutor +2 +6\.50 +2 +8\.00 +\+1\.50 +0 +1\n/);
  assert.match(text, /\n\(none\) +1 +5\.00 +1 +10\.00 +\+5\.00/);
  assert.match(
    text,
    /\nFlips across 5 \(2\)\nepisode +attempt +action +role +A +B +flip\ne1 +1 +1 +executor +4\.0 +6\.0 +up\n\.\.\. 1 more/,
  );
  assert.match(text, /\nStatus changes \(4\)\n/);
  assert.match(
    text,
    /\nLargest differences \(3\)\n.*\ne1 +1 +2 +verifier +6\.0 +3\.0 +-3\.0\n/,
  );
  assert.ok(!lines.some((l) => l.endsWith(" ")));
});

Deno.test("compareLayers() of empty layers has no statistics", () => {
  const c = compareLayers([], layerB.slice(0, 1));
  assert.equal(c.a.layer, null);
  assert.equal(c.spearman, null);
  assert.equal(c.kendall_tau_b, null);
  assert.equal(c.mean_delta, null);
  assert.deepEqual(c.status_changes.map((d) => d.status), ["only_b"]);
  assert.match(formatComparison(c), /\(empty\)/);
});
