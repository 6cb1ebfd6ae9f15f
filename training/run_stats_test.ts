import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunEvent } from "../runtime/events.ts";
import { compileFile } from "../dsl/mod.ts";
import {
  action,
  finished,
  RUN_ID,
  started,
  verdict,
  verdictMap,
} from "../tests/fixtures/training_fixtures.ts";
import {
  categoryStats,
  outcomeStats,
  readRunEvents,
  roleScores,
} from "./run_stats.ts";

function episode(
  id: string,
  category: string | null,
  success: boolean | undefined,
  metrics?: Record<string, number>,
): RunEvent[] {
  return [
    started(id, { category }),
    action(id, "drafter", 0),
    action(id, "finisher", 1),
    finished(id, {
      ...(success === undefined ? {} : { success }),
      ...(metrics ? { metrics } : {}),
    }),
  ];
}

Deno.test("outcomeStats() counts graded episodes, success and metric means", async (t) => {
  await t.step("no episodes", () => {
    assert.deepEqual(outcomeStats([]), {
      episodes: 0,
      graded: 0,
      success_rate: null,
      metrics: {},
    });
  });

  await t.step("graded and ungraded episodes", () => {
    const events = [
      ...episode("a", null, true, { correct: 1, f1: 0.5 }),
      ...episode("b", null, false, { correct: 0, f1: 0.25 }),
      ...episode("c", null, false, { correct: 0 }),
      ...episode("d", null, undefined),
    ];
    const stats = outcomeStats(events);
    assert.equal(stats.episodes, 4);
    assert.equal(stats.graded, 3);
    assert.equal(stats.success_rate, 1 / 3);
    // f1 is not on one scale across tasks of a regex grader: only `correct` is averaged.
    assert.deepEqual(stats.metrics, { correct: 1 / 3 });
  });

  await t.step(
    "tabular means use the relative-gap score, and failed episodes count at fair values",
    () => {
      const tab = { grader: "tabular_metric" };
      const events = [
        started("a"),
        finished("a", {
          ...tab,
          success: true,
          metrics: { valid_submission: 1, score: 0.9, rmse: 1500 },
        }),
        started("b"),
        finished("b", {
          ...tab,
          success: false,
          metrics: { valid_submission: 1, score: 0.3, rmsle: 0.2 },
        }),
        started("c"),
        finished("c", { status: "failed" }),
      ];
      const spec = {
        grader: "tabular_metric" as const,
        fair: { valid_submission: 0.5 },
      };
      const stats = outcomeStats(events, spec);
      assert.equal(stats.failed, 1);
      assert.equal(stats.graded, 2);
      assert.equal(stats.success_rate, 1 / 3);
      assert.deepEqual(Object.keys(stats.metrics).sort(), [
        "score",
        "valid_submission",
      ]);
      assert.ok(Math.abs(stats.metrics.score! - 0.4) < 1e-12); // (0.9 + 0.3 + fair 0) / 3
      assert.ok(Math.abs(stats.metrics.valid_submission! - 2.5 / 3) < 1e-12);
      // Without the spec's outcome, a failed episode cannot be valued and is left out.
      assert.equal(outcomeStats(events).failed, undefined);
    },
  );

  await t.step(
    "an episode the grader could not grade is counted apart, not as a failure",
    () => {
      const events = [
        ...episode("a", "x", true, { correct: 1 }),
        started("b", { category: "x" }),
        finished("b", {
          success: false,
          metrics: { correct: 0 },
          ungraded: "grader_error",
        }),
      ];
      assert.deepEqual(outcomeStats(events), {
        episodes: 2,
        graded: 1,
        ungraded: 1,
        success_rate: 1,
        metrics: { correct: 1 },
      });
      assert.equal(categoryStats(events, new Map()).x?.success_rate, 1);
    },
  );

  await t.step("only the last attempt of a retried episode", () => {
    const events = [
      started("a", { attempt: 1 }),
      finished("a", { attempt: 1, success: false, metrics: { correct: 0 } }),
      started("a", { attempt: 2 }),
      finished("a", { attempt: 2, success: true, metrics: { correct: 1 } }),
      // Started but never finished: not an episode yet.
      started("b"),
    ];
    assert.deepEqual(outcomeStats(events), {
      episodes: 1,
      graded: 1,
      success_rate: 1,
      metrics: { correct: 1 },
    });
  });
});

Deno.test("categoryStats() gives score mean and success rate per category", () => {
  const events = [
    ...episode("a", "fruit", true),
    ...episode("b", "fruit", false),
    ...episode("c", null, true),
    ...episode("d", "animals", undefined),
  ];
  const verdicts = verdictMap([
    verdict("a", "drafter", 0, 8),
    verdict("a", "finisher", 1, 6),
    verdict("b", "drafter", 0, 1),
    verdict("b", "finisher", 1, null),
    verdict("c", "drafter", 0, 5),
    // An episode the events do not know is ignored.
    verdict("zz", "drafter", 0, 10),
  ]);
  const stats = categoryStats(events, verdicts);
  // Keys sorted; a category with neither a score nor a grade ("animals") has no entry.
  assert.deepEqual(Object.keys(stats), ["(none)", "fruit"]);
  assert.deepEqual(stats, {
    "(none)": { score_mean: 5, scored: 1, success_rate: 1 },
    fruit: { score_mean: 5, scored: 3, success_rate: 0.5 },
  });
});

Deno.test("categoryStats() counts only verdicts of the attempt that counts, as buildSamples() does", () => {
  // Attempt 1 of "a" was superseded by attempt 2; "b" never finished. Their verdicts must not count,
  // or the step line's categories disagree with its roles' score_mean (which buildSamples() computes).
  const events = [
    started("a", { attempt: 1, category: "fruit" }),
    action("a", "drafter", 0, { attempt: 1 }),
    finished("a", { attempt: 1, success: false }),
    started("a", { attempt: 2, category: "fruit" }),
    action("a", "drafter", 0, { attempt: 2 }),
    finished("a", { attempt: 2, success: true }),
    started("b", { category: "fruit" }),
    action("b", "drafter", 0),
  ];
  const stats = categoryStats(
    events,
    verdictMap([
      verdict("a", "drafter", 0, 0, 1),
      verdict("a", "drafter", 0, 10, 2),
      verdict("b", "drafter", 0, 0, 1),
    ]),
  );
  assert.deepEqual(stats, {
    fruit: { score_mean: 10, scored: 1, success_rate: 1 },
  });
});

Deno.test("roleScores() averages scored verdicts per role", () => {
  assert.deepEqual(roleScores(new Map()), {});
  const scores = roleScores(verdictMap([
    verdict("a", "drafter", 0, 8),
    verdict("b", "drafter", 0, 4),
    verdict("a", "finisher", 1, 3),
    verdict("b", "finisher", 1, null),
    verdict("c", "critic", 2, null),
  ]));
  assert.deepEqual(scores, {
    drafter: { score_mean: 6, scored: 2 },
    finisher: { score_mean: 3, scored: 1 },
  });
});

Deno.test("readRunEvents() reads and validates events.jsonl", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_run_stats_" });
  const path = join(dir, "events.jsonl");
  const compiled = compileFile("pipelines/relay.yaml");
  assert(compiled.ok);
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({ run_id: RUN_ID, graph: compiled.graph }),
  );
  const events = episode("a", "fruit", true);
  const lines = events.map((e) => JSON.stringify(e));
  try {
    await t.step("whole lines, blank lines skipped", async () => {
      await Deno.writeTextFile(path, lines.join("\n") + "\n\n");
      assert.deepEqual(await readRunEvents(dir), events);
    });

    await t.step("a torn last line is dropped", async () => {
      await Deno.writeTextFile(
        path,
        lines.join("\n") + "\n" + lines[1]!.slice(0, 30),
      );
      assert.deepEqual(await readRunEvents(dir), events);
    });

    await t.step("a bad middle line throws naming it", async () => {
      await Deno.writeTextFile(
        path,
        [lines[0], "{oops", ...lines.slice(1)].join("\n") + "\n",
      );
      await assert.rejects(
        readRunEvents(dir),
        (e: unknown) =>
          e instanceof Error &&
          e.message.includes(dir) &&
          /events\.jsonl line 2\b/.test(e.message),
      );
    });

    await t.step(
      "a JSON line that is not a run event throws naming it",
      async () => {
        await Deno.writeTextFile(
          path,
          [lines[0], lines[1], JSON.stringify({ kind: "nope" }), lines[2]]
            .join("\n") + "\n",
        );
        await assert.rejects(
          readRunEvents(dir),
          (e: unknown) => e instanceof Error && /line 3\b/.test(e.message),
        );
      },
    );

    await t.step("a retried episode keeps only its last attempt", async () => {
      const retry = events.map((e) => ({ ...e, attempt: 2 }));
      await Deno.writeTextFile(
        path,
        [...lines, ...retry.map((e) => JSON.stringify(e))].join("\n") + "\n",
      );
      assert.deepEqual(await readRunEvents(dir), retry);
    });

    await t.step("a run that has not started has no events", async () => {
      await Deno.remove(path);
      assert.deepEqual(await readRunEvents(dir), []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
