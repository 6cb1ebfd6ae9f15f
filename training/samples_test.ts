import assert from "node:assert/strict";
import type { RunEvent } from "../runtime/events.ts";
import type { Verdict } from "../coaches/types.ts";
import {
  action,
  finished,
  modelCall,
  started,
  verdict,
  verdictMap,
} from "../tests/fixtures/training_fixtures.ts";
import {
  buildSamples,
  type BuildSamplesOptions,
  type RoleSamples,
} from "./samples.ts";
import { SampleSchema } from "./protocol.ts";

function options(
  fields: Partial<BuildSamplesOptions> & { w?: number } = {},
): BuildSamplesOptions {
  const { w, ...rest } = fields;
  return {
    runId: "r1",
    versions: { drafter: 0, finisher: 0 },
    reward: { scale: 0.1, offset: 0, unscored: "mask", outcome_weight: w ?? 0 },
    maskTruncated: false,
    ...rest,
  };
}

function build(
  events: RunEvent[],
  verdicts: Verdict[],
  opts: BuildSamplesOptions = options(),
): Record<string, RoleSamples> {
  const out = buildSamples(events, verdictMap(verdicts), opts);
  for (const bucket of Object.values(out)) {
    for (const s of bucket.samples) SampleSchema.parse(s);
  }
  return out;
}

function close(actual: number | undefined, expected: number, what = "") {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `${what} expected ${expected}, got ${actual}`,
  );
}

/** One episode with a drafter action (index 0) and a finisher action (index 1). */
function relay(
  episode: string,
  success: boolean | undefined,
  fields: { task_id?: string; split?: string; category?: string | null } = {},
): RunEvent[] {
  return [
    started(episode, fields),
    action(episode, "drafter", 0),
    action(episode, "finisher", 1),
    finished(episode, success === undefined ? {} : { success }),
  ];
}

Deno.test("buildSamples() gives each role its own coach reward (w = 0) with the exact recorded ids", () => {
  const out = build(
    relay("e1", false, { task_id: "t1", category: "animals" }),
    [verdict("e1", "drafter", 0, 8), verdict("e1", "finisher", 1, 3)],
  );
  assert.deepEqual(Object.keys(out).sort(), ["drafter", "finisher"]);
  const d = out.drafter!;
  const f = out.finisher!;
  assert.equal(d.samples.length, 1);
  assert.equal(f.samples.length, 1);
  const { reward, ...rest } = d.samples[0]!;
  close(reward, 0.8, "drafter reward");
  assert.deepEqual(rest, {
    sample_id: "r1/e1/0",
    trajectory_id: "r1/e1",
    group_id: "train:t1",
    action_index: 0,
    policy_version: 0,
    prompt_token_ids: [1, 2, 3],
    completion_token_ids: [4, 5],
    behavior_logprobs: [-0.5, -0.25],
  });
  close(f.samples[0]!.reward, 0.3, "finisher reward");
  assert.equal(f.samples[0]!.sample_id, "r1/e1/1");
  assert.deepEqual(d.scores, [8]);
  assert.deepEqual(f.scores, [3]);
  assert.deepEqual(d.scoresByCategory, { animals: [8] });
  assert.deepEqual(d.masked, {});
  assert.equal(d.completionTokens, 2);
});

Deno.test("buildSamples() sends the recorded token ids, not the ones of another action", () => {
  const events = [
    started("e1"),
    action("e1", "drafter", 0, {
      call: modelCall({
        prompt_token_ids: [7, 8, 9, 10],
        completion_token_ids: [11, 12, 13],
        completion_logprobs: [-1, -2, -3],
      }),
    }),
    action("e1", "drafter", 1, {
      call: modelCall({
        prompt_token_ids: [20],
        completion_token_ids: [21],
        completion_logprobs: [-4],
      }),
    }),
    finished("e1"),
  ];
  const out = build(events, [
    verdict("e1", "drafter", 0, 5),
    verdict("e1", "drafter", 1, 6),
  ]);
  const s = out.drafter!.samples;
  assert.deepEqual(
    s.map((x) => [
      x.action_index,
      x.prompt_token_ids,
      x.completion_token_ids,
      x.behavior_logprobs,
    ]),
    [[0, [7, 8, 9, 10], [11, 12, 13], [-1, -2, -3]], [1, [20], [21], [-4]]],
  );
  assert.equal(out.drafter!.completionTokens, 4);
});

Deno.test("buildSamples() uses the outcome only when w = 1", async (t) => {
  const opts = options({ w: 1 });
  await t.step(
    "success: both roles get the scale's max, scores ignored",
    () => {
      const out = build(relay("e1", true), [
        verdict("e1", "drafter", 0, 2),
        verdict("e1", "finisher", 1, 9),
      ], opts);
      close(out.drafter!.samples[0]?.reward, 1.0, "drafter");
      close(out.finisher!.samples[0]?.reward, 1.0, "finisher");
    },
  );
  await t.step(
    "failure: the scale's min; unscored actions are still sent",
    () => {
      const out = build(relay("e1", false), [], opts);
      close(out.drafter!.samples[0]?.reward, 0, "drafter");
      close(out.finisher!.samples[0]?.reward, 0, "finisher");
      assert.deepEqual(out.drafter!.masked, {});
    },
  );
  await t.step("an ungraded episode is masked not_graded", () => {
    const out = build(relay("e1", undefined), [
      verdict("e1", "drafter", 0, 5),
    ], opts);
    assert.equal(out.drafter!.samples.length, 0);
    assert.deepEqual(out.drafter!.masked, { not_graded: 1 });
    assert.deepEqual(out.finisher!.masked, { not_graded: 1 });
  });
});

Deno.test("buildSamples() mixes score and outcome when w = 0.5", () => {
  const events = [...relay("ok", true), ...relay("bad", false)];
  const out = build(events, [
    verdict("ok", "drafter", 0, 6),
    verdict("ok", "finisher", 1, 4),
    verdict("bad", "drafter", 0, 6),
    verdict("bad", "finisher", 1, 4),
  ], options({ w: 0.5 }));
  const d = out.drafter!.samples;
  const f = out.finisher!.samples;
  // 0.5·0.6 + 0.5·1.0 and 0.5·0.6 + 0.5·0
  close(d.find((s) => s.trajectory_id === "r1/ok")?.reward, 0.8, "ok drafter");
  close(
    d.find((s) => s.trajectory_id === "r1/bad")?.reward,
    0.3,
    "bad drafter",
  );
  close(f.find((s) => s.trajectory_id === "r1/ok")?.reward, 0.7, "ok finisher");
  close(
    f.find((s) => s.trajectory_id === "r1/bad")?.reward,
    0.2,
    "bad finisher",
  );
});

Deno.test("buildSamples() applies reward scale and offset, and the coach scale's min/max to the outcome", () => {
  const opts: BuildSamplesOptions = {
    ...options(),
    reward: { scale: 0.2, offset: -1, unscored: "mask", outcome_weight: 0.5 },
    scale: { min: 1, max: 5 },
  };
  const out = build([...relay("ok", true), ...relay("bad", false)], [
    verdict("ok", "drafter", 0, 3),
    verdict("bad", "drafter", 0, 3),
  ], opts);
  const d = out.drafter!.samples;
  // score part 3·0.2 − 1 = −0.4; success 5·0.2 − 1 = 0; failure 1·0.2 − 1 = −0.8
  close(d.find((s) => s.trajectory_id === "r1/ok")?.reward, -0.2, "success");
  close(d.find((s) => s.trajectory_id === "r1/bad")?.reward, -0.6, "failure");
  // w = 0 with the same mapping: score only.
  const only = build(relay("e", false), [verdict("e", "drafter", 0, 3)], {
    ...opts,
    reward: { ...opts.reward, outcome_weight: 0 },
  });
  close(only.drafter!.samples[0]?.reward, -0.4, "w = 0");
});

Deno.test("buildSamples() masks", async (t) => {
  await t.step("unscored: an unscored verdict or none while w < 1", () => {
    for (const w of [0, 0.5]) {
      const out = build(relay("e1", true), [
        verdict("e1", "drafter", 0, null),
      ], options({ w }));
      assert.equal(out.drafter!.samples.length, 0, `w = ${w}`);
      assert.deepEqual(out.drafter!.masked, { unscored: 1 }, `w = ${w}`);
      assert.deepEqual(out.finisher!.masked, { unscored: 1 }, `w = ${w}`);
      assert.deepEqual(out.drafter!.scores, []);
    }
  });

  await t.step(
    "not_graded: w > 0 and no outcome; w = 0 does not need one",
    () => {
      const v = [verdict("e1", "drafter", 0, 7)];
      const half = build(relay("e1", undefined), v, options({ w: 0.5 }));
      assert.equal(half.drafter!.samples.length, 0);
      assert.deepEqual(half.drafter!.masked, { not_graded: 1 });
      // The score of a masked action is still reported.
      assert.deepEqual(half.drafter!.scores, [7]);
      const zero = build(relay("e1", undefined), v, options({ w: 0 }));
      assert.equal(zero.drafter!.samples.length, 1);
      close(zero.drafter!.samples[0]!.reward, 0.7);
    },
  );

  await t.step(
    "grader_failed: a grader failure masks every action's outcome, never the scale's min",
    () => {
      for (const ungraded of ["grader_error", "grader_timeout"] as const) {
        const events = [
          started("e1"),
          action("e1", "drafter", 0),
          action("e1", "finisher", 1),
          // What gradeEpisode() records for a grader that could not grade: success false, fair values.
          finished("e1", { success: false, ungraded }),
        ];
        const v = [
          verdict("e1", "drafter", 0, 7),
          verdict("e1", "finisher", 1, 3),
        ];
        for (const w of [1, 0.5]) {
          const out = build(events, v, options({ w }));
          assert.deepEqual(out.drafter!.samples, [], `${ungraded}, w = ${w}`);
          assert.deepEqual(out.finisher!.samples, [], `${ungraded}, w = ${w}`);
          assert.deepEqual(out.drafter!.masked, { grader_failed: 1 });
          assert.deepEqual(out.finisher!.masked, { grader_failed: 1 });
          assert.deepEqual(out.drafter!.scores, [7]);
        }
        // w = 0 reads no outcome, so the coach's reward is sent as usual.
        const zero = build(events, v, options({ w: 0 }));
        close(zero.drafter!.samples[0]?.reward, 0.7);
        assert.deepEqual(zero.drafter!.masked, {});
      }
    },
  );

  await t.step("no_tokens: a failed call, missing or empty ids", () => {
    const calls = [
      modelCall({
        ok: false,
        prompt_token_ids: undefined,
        completion_token_ids: undefined,
        completion_logprobs: undefined,
        policy_version: undefined,
        error: { kind: "http", status: 500, message: "boom" },
      }),
      modelCall({ ok: false }),
      modelCall({ prompt_token_ids: undefined }),
      modelCall({ completion_token_ids: undefined }),
      modelCall({ completion_token_ids: [] }),
      modelCall({ prompt_token_ids: [] }),
    ].map((c) =>
      Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))
    );
    const events = [
      started("e1"),
      ...calls.map((call, i) => action("e1", "drafter", i, { call })),
      finished("e1", { success: true }),
    ];
    const out = build(
      events,
      calls.map((_, i) => verdict("e1", "drafter", i, 5)),
    );
    assert.equal(out.drafter!.samples.length, 0);
    assert.deepEqual(out.drafter!.masked, { no_tokens: calls.length });
    assert.equal(out.drafter!.completionTokens, 0);
  });

  await t.step("stale: another policy version, or none", () => {
    const events = [
      started("e1"),
      action("e1", "drafter", 0, { call: modelCall({ policy_version: 2 }) }),
      action("e1", "drafter", 1, { call: modelCall({ policy_version: 3 }) }),
      action("e1", "drafter", 2, {
        call: Object.fromEntries(
          Object.entries(modelCall()).filter(([k]) => k !== "policy_version"),
        ),
      }),
      finished("e1", { success: true }),
    ];
    const out = build(
      events,
      [0, 1, 2].map((i) => verdict("e1", "drafter", i, 5)),
      options({ versions: { drafter: 3 } }),
    );
    assert.deepEqual(out.drafter!.samples.map((s) => s.action_index), [1]);
    assert.equal(out.drafter!.samples[0]!.policy_version, 3);
    assert.deepEqual(out.drafter!.masked, { stale: 2 });
  });

  await t.step(
    "truncated: finish_reason length only with maskTruncated",
    () => {
      const events = [
        started("e1"),
        action("e1", "drafter", 0, {
          call: modelCall({ finish_reason: "length" }),
        }),
        finished("e1", { success: true }),
      ];
      const v = [verdict("e1", "drafter", 0, 5)];
      const masked = build(events, v, options({ maskTruncated: true }));
      assert.equal(masked.drafter!.samples.length, 0);
      assert.deepEqual(masked.drafter!.masked, { truncated: 1 });
      const kept = build(events, v, options({ maskTruncated: false }));
      assert.equal(kept.drafter!.samples.length, 1);
      assert.deepEqual(kept.drafter!.masked, {});
    },
  );

  await t.step("one reason per action: the first that applies", () => {
    // Stale and unscored: counted once, as stale.
    const events = [
      started("e1"),
      action("e1", "drafter", 0, { call: modelCall({ policy_version: 9 }) }),
      finished("e1", { success: true }),
    ];
    const out = build(events, []);
    assert.deepEqual(out.drafter!.masked, { stale: 1 });
  });
});

Deno.test("buildSamples() keeps behavior_logprobs only when they match the completion length", () => {
  const events = [
    started("e1"),
    action("e1", "drafter", 0, {
      call: modelCall({ completion_logprobs: [-0.1] }),
    }),
    action("e1", "drafter", 1, {
      call: Object.fromEntries(
        Object.entries(modelCall()).filter(([k]) =>
          k !== "completion_logprobs"
        ),
      ),
    }),
    action("e1", "drafter", 2),
    finished("e1"),
  ];
  const out = build(
    events,
    [0, 1, 2].map((i) => verdict("e1", "drafter", i, 5)),
  );
  const s = out.drafter!.samples;
  assert.equal(s.length, 3);
  assert.equal("behavior_logprobs" in s[0]!, false);
  assert.equal("behavior_logprobs" in s[1]!, false);
  assert.deepEqual(s[2]!.behavior_logprobs, [-0.5, -0.25]);
});

Deno.test("buildSamples() counts only the last attempt of a retried episode", () => {
  const events = [
    started("e1", { attempt: 1, task_id: "t1" }),
    action("e1", "drafter", 0, { attempt: 1 }),
    finished("e1", { attempt: 1, success: false }),
    started("e1", { attempt: 2, task_id: "t1", category: "second" }),
    action("e1", "drafter", 0, {
      attempt: 2,
      call: modelCall({
        completion_token_ids: [40, 41, 42],
        completion_logprobs: [-1, -1, -1],
      }),
    }),
    finished("e1", { attempt: 2, success: true }),
  ];
  const out = build(events, [
    verdict("e1", "drafter", 0, 9, 1),
    verdict("e1", "drafter", 0, 2, 2),
  ], options({ w: 0.5 }));
  const d = out.drafter!;
  assert.equal(d.samples.length, 1);
  assert.deepEqual(d.samples[0]!.completion_token_ids, [40, 41, 42]);
  // 0.5·0.2 + 0.5·1 (attempt 2 succeeded)
  close(d.samples[0]!.reward, 0.6);
  assert.deepEqual(d.scores, [2]);
  assert.deepEqual(d.scoresByCategory, { second: [2] });
  assert.equal(d.completionTokens, 3);
});

Deno.test("buildSamples() ignores actions of unfinished episodes", () => {
  const events = [
    started("e1"),
    action("e1", "drafter", 0),
    // Another episode finished; e1 never did.
    finished("e2"),
  ];
  const out = build(events, [verdict("e1", "drafter", 0, 5)]);
  assert.deepEqual(out.drafter!.samples, []);
  assert.deepEqual(out.drafter!.scores, []);
});

Deno.test("buildSamples() ignores roles that are not trained", () => {
  const out = build(relay("e1", true), [
    verdict("e1", "drafter", 0, 8),
    verdict("e1", "finisher", 1, 3),
  ], options({ versions: { drafter: 0 } }));
  assert.deepEqual(Object.keys(out), ["drafter"]);
  assert.deepEqual(out.drafter!.samples.map((s) => s.action_index), [0]);
  assert.deepEqual(out.drafter!.scores, [8]);
  assert.deepEqual(out.drafter!.masked, {});
});

Deno.test("buildSamples() reports every trained role, even one without actions", () => {
  const out = build(relay("e1", true), [verdict("e1", "drafter", 0, 8)], {
    ...options(),
    versions: { drafter: 0, finisher: 0, critic: 0 },
  });
  assert.deepEqual(out.critic, {
    samples: [],
    masked: {},
    scores: [],
    scoresByCategory: {},
    completionTokens: 0,
  });
});

Deno.test("buildSamples() groups samples by <split>:<task_id> and files scores under their category", () => {
  const events = [
    ...relay("a", true, { task_id: "t9", split: "eval", category: null }),
    ...relay("b", true, { task_id: "t9", split: "eval", category: null }),
    ...relay("c", true, { task_id: "t3", split: "train", category: "math" }),
  ];
  const out = build(events, [
    verdict("a", "drafter", 0, 1),
    verdict("b", "drafter", 0, 2),
    verdict("c", "drafter", 0, 3),
  ]);
  assert.deepEqual(
    out.drafter!.samples.map((s) => [s.trajectory_id, s.group_id]),
    [["r1/a", "eval:t9"], ["r1/b", "eval:t9"], ["r1/c", "train:t3"]],
  );
  assert.deepEqual(out.drafter!.scoresByCategory, {
    "(none)": [1, 2],
    math: [3],
  });
});
