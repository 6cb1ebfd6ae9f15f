import assert from "node:assert/strict";
import type { GraphRubric } from "../dsl/mod.ts";
import { applyChecks } from "./apply_checks.ts";
import type { Evidence, Fact } from "./types.ts";

function rubric(fields: Partial<GraphRubric> = {}): GraphRubric {
  return {
    name: "r",
    hash: "h",
    file: "r.yaml",
    scale: { min: 0, max: 10 },
    checks: [],
    caps: [],
    ...fields,
  };
}

function evidence(
  role: string,
  kinds: readonly Fact["kind"][],
  metrics?: Record<string, number>,
): Evidence {
  return {
    role: { id: role },
    fact_data: kinds.map((kind) => ({ kind, role, text: kind })),
    ...(metrics ? { outcome: { metrics } } : {}),
  } as unknown as Evidence;
}

const AUC = {
  id: "auc",
  metric: "roc_auc",
  bands: [
    { at_least: 0.85, max_score: 9 },
    { at_least: 0.75, max_score: 8 },
    { at_least: 0.55, below: 0.75, max_score: 4 },
    { max_score: 3 },
  ],
};

Deno.test("applyChecks() caps and floors only on facts that hold, for the roles listed", () => {
  const r = rubric({
    checks: [
      { id: "missing", when: "required_file_missing", cap: 2 },
      { id: "crash", when: "tool_error", cap: 6 },
      {
        id: "upstream",
        when: "upstream_file_missing",
        floor: 5,
        roles: ["analyst"],
      },
    ],
  });
  assert.deepEqual(applyChecks(r, evidence("modeler", []), 8), {
    score: 8,
    applied: [],
  });
  assert.deepEqual(
    applyChecks(r, evidence("modeler", ["upstream_file_missing"]), 3).score,
    3,
  );
  assert.deepEqual(
    applyChecks(
      r,
      evidence("analyst", [
        "tool_error",
        "upstream_file_missing",
        "required_file_missing",
      ]),
      8,
    ),
    {
      score: 5,
      applied: [
        { id: "missing", kind: "check", effect: "cap", value: 2 },
        { id: "crash", kind: "check", effect: "cap", value: 6 },
        { id: "upstream", kind: "check", effect: "floor", value: 5 },
      ],
    },
  );
});

Deno.test("applyChecks() caps by the first matching band of a metric, after floors", () => {
  const r = rubric({
    caps: [AUC],
    checks: [{ id: "upstream", when: "upstream_file_missing", floor: 5 }],
  });
  const score = (auc: number, raw = 10) =>
    applyChecks(r, evidence("analyst", [], { roc_auc: auc }), raw).score;
  assert.deepEqual([
    score(0.9),
    score(0.85),
    score(0.8),
    score(0.6),
    score(0.2),
  ], [
    9,
    9,
    8,
    4,
    3,
  ]);
  assert.deepEqual(
    applyChecks(
      r,
      evidence("analyst", ["upstream_file_missing"], { roc_auc: 0.5 }),
      1,
    ),
    {
      score: 3,
      applied: [
        { id: "upstream", kind: "check", effect: "floor", value: 5 },
        { id: "auc", kind: "cap", effect: "cap", value: 3 },
      ],
    },
  );
});

Deno.test("applyChecks() skips caps whose metric is absent, not a number or for other roles", () => {
  const r = rubric({
    caps: [AUC, { ...AUC, id: "acc", metric: "accuracy", roles: ["x"] }],
  });
  assert.deepEqual(applyChecks(r, evidence("analyst", []), 10), {
    score: 10,
    applied: [],
  });
  assert.equal(
    applyChecks(r, evidence("analyst", [], { roc_auc: NaN, accuracy: 0.1 }), 10)
      .score,
    10,
  );
});

Deno.test("applyChecks() keeps the score within the scale", () => {
  const r = rubric({
    scale: { min: 1, max: 5 },
    checks: [{ id: "boost", when: "no_tool_call", floor: 9 }, {
      id: "sink",
      when: "empty_reply",
      cap: -3,
    }],
  });
  assert.equal(applyChecks(r, evidence("a", ["no_tool_call"]), 2).score, 5);
  assert.equal(applyChecks(r, evidence("a", ["empty_reply"]), 4).score, 1);
  assert.equal(applyChecks(r, evidence("a", []), 12).score, 5);
});

Deno.test("applyChecks: reply_mismatch fires when the reply does not match its pattern", async (t) => {
  const tiers = rubric({
    checks: [
      { id: "not_a", when: "reply_mismatch", pattern: "^a", cap: 5 },
      { id: "not_lower", when: "reply_mismatch", pattern: "^[a-z]", cap: 0 },
    ],
  });
  const reply = (output: string) =>
    ({
      role: { id: "drafter" },
      fact_data: [],
      action: { output },
    }) as unknown as Evidence;
  await t.step("a matching reply keeps the raw score", () => {
    assert.deepEqual(applyChecks(tiers, reply("apple"), 10), {
      score: 10,
      applied: [],
    });
  });
  await t.step(
    "each pattern that does not match caps; the lowest binds",
    () => {
      assert.equal(applyChecks(tiers, reply("kiwi"), 10).score, 5);
      const none = applyChecks(tiers, reply("7 up"), 10);
      assert.equal(none.score, 0);
      assert.deepEqual(none.applied.map((a) => a.id), ["not_a", "not_lower"]);
    },
  );
});

Deno.test("applyChecks: a command check applies its program's decision, with its note, for its roles", () => {
  const r = rubric({
    checks: [
      { id: "hard", when: "command", code: "x", language: "python", cap: 2 },
      {
        id: "excuse",
        when: "command",
        code: "y",
        language: "python",
        floor: 4,
      },
      {
        id: "theirs",
        when: "command",
        code: "z",
        language: "python",
        cap: 0,
        roles: ["analyst"],
      },
    ],
  });
  const decisions = new Map([
    ["hard", { fires: true, note: "returns 42 literally" }],
    ["excuse", { fires: false }],
  ]);
  assert.deepEqual(applyChecks(r, evidence("modeler", []), 8, decisions), {
    score: 2,
    applied: [{
      id: "hard",
      kind: "check",
      effect: "cap",
      value: 2,
      note: "returns 42 literally",
    }],
  });
  assert.deepEqual(
    applyChecks(
      r,
      evidence("modeler", []),
      8,
      new Map([["hard", { fires: true }], ["excuse", { fires: true }]]),
    ).score,
    4,
  );
  assert.throws(
    () => applyChecks(r, evidence("analyst", []), 8, decisions),
    /Cannot apply check "theirs": its program's decision was not given/,
  );
});
