// CI smoke test of `deno task study` (issue 15 item 3): 2 seeds × 2 modes × 2 steps of relay_team on the
// tiny CPU backend (about a minute on 2 cores); the full study is a command users run (docs/mappa_effect.md).
import assert from "node:assert/strict";
import { join } from "node:path";
import type { StudyReport } from "../tools/study_report.ts";

async function study(out: string) {
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tools/study.ts",
      "pipelines/relay_team.yaml",
      "--seeds",
      "2",
      "--steps",
      "2",
      "--modes",
      "per_action,outcome",
      "--out",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).output();
  const text = new TextDecoder().decode(res.stderr);
  assert.equal(res.code, 0, text + new TextDecoder().decode(res.stdout));
  return text;
}

Deno.test("deno task study trains every mode × seed, reports figures read from the runs, and skips finished runs", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa-study-" });
  try {
    await study(out);
    const report: StudyReport = JSON.parse(
      await Deno.readTextFile(join(out, "study.json")),
    );
    assert.equal(report.kind, "study");
    assert.equal(report.steps, 2);
    assert.deepEqual(report.seeds, [1, 2]);
    assert.deepEqual(
      report.cells.map((c) => [c.mode, c.outcome_weight, c.seeds]),
      [["per_action", 0, [1, 2]], ["outcome", 1, [1, 2]]],
    );
    assert.equal(report.runs.length, 4);
    for (const run of report.runs) {
      assert.equal(run.status, "completed");
      assert.equal(run.steps_done, 2);
      // The figures are the run's own eval lines in metrics.jsonl.
      const evals = (await Deno.readTextFile(join(run.dir!, "metrics.jsonl")))
        .trim().split("\n").map((l) => JSON.parse(l))
        .filter((l) => l.type === "eval")
        .map((l) => [l.step, l.outcome.success_rate]);
      assert.deepEqual(run.evals.map((e) => [e.step, e.success_rate]), evals);
      assert.deepEqual(evals.map(([s]) => s), [0, 2]);
      assert.equal(run.final_success, evals.at(-1)![1]);
      const train = JSON.parse(
        await Deno.readTextFile(join(run.dir!, "train.json")),
      );
      assert.equal(train.train.seed, run.seed);
      assert.equal(train.train.reward.outcome_weight, run.outcome_weight);
    }
    for (const cell of report.cells) {
      const mine = report.runs.filter((r) => r.mode === cell.mode);
      assert.deepEqual(cell.bands.map((b) => b.step), [0, 2]);
      for (const b of cell.bands) {
        const xs = mine.map((r) =>
          r.evals.find((e) => e.step === b.step)!.success_rate
        );
        assert.ok(Math.abs(b.mean - (xs[0]! + xs[1]!) / 2) < 1e-12);
        assert.equal(b.min, Math.min(...xs));
        assert.equal(b.max, Math.max(...xs));
      }
      assert.equal(cell.steps_to_50.of, 2);
      assert.equal(cell.steps_to_95.of, 2);
    }
    assert.equal(report.chance.episodes, 4 * 128);
    const md = await Deno.readTextFile(join(out, "study.md"));
    assert.match(md, /\| per_action \| 0 \| 2 \|/);
    assert.match(md, /\| outcome \| 1 \| 2 \|/);
    assert.match(await Deno.readTextFile(join(out, "study.html")), /<svg/);

    // Run again: every run is finished, so nothing trains and the report is the same.
    const again = await study(out);
    assert.doesNotMatch(again, /\.\.\.$/m, again);
    const second: StudyReport = JSON.parse(
      await Deno.readTextFile(join(out, "study.json")),
    );
    assert.deepEqual(second.runs, report.runs);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task study on a spec that does not compile says why once and trains nothing", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_study_bad_" });
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/study.ts", "no_such_spec.yaml", "--out", out],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 1, stderr);
  assert.match(stderr, /error\[file_not_found\]/);
  assert.match(stderr, /^study: fix no_such_spec\.yaml \(see above\)/m);
  assert.deepEqual([...Deno.readDirSync(out)], [], "no run was started");
  await Deno.remove(out, { recursive: true });
});
