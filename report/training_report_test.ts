import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type EvalLine,
  type MetricsLine,
  MetricsLineSchema,
  type RoleStep,
  type StepLine,
} from "../training/metrics.ts";
import { TrainSchema } from "../dsl/schema.ts";
import { writeTrainingReport } from "./training_report.ts";
import { plotMarks } from "../tests/fixtures/plot_marks.ts";
import type { TrainManifest } from "../training/train_run.ts";

const HOSTILE_ROLE = "<script>alert(1)</script>";
const HOSTILE_CATEGORY = "<img src=x onerror=alert(2)>";

function manifest(
  runId: string,
  roles: readonly string[],
  outcomeWeight: number,
): TrainManifest {
  return {
    kind: "training",
    run_id: runId,
    created_at: "2026-01-01T00:00:00.000Z",
    status: "running",
    spec_file: "pipelines/demo.yaml",
    spec_hash: "0".repeat(64),
    train: {
      ...TrainSchema.parse({
        steps: 5,
        tasks_per_step: 4,
        eval: { every: 2, splits: ["held"], coach: true },
        reward: { outcome_weight: outcomeWeight },
      }),
      roles,
    },
    trainer: "local",
    sessions: 1,
    versions: Object.fromEntries(roles.map((r) => [r, 2])),
  };
}

function roleStep(
  step: number,
  reward: number | null,
  extra: Partial<RoleStep> = {},
): RoleStep {
  return {
    version_before: step - 1,
    version: step,
    samples: 8,
    masked: {},
    reward_mean: reward,
    score_mean: reward === null ? null : reward * 10,
    scored: 8,
    completion_tokens: 64,
    train: { loss: 0.01 * step, kl: 0.001 * step, grad_norm: 1 + step },
    ...extra,
  };
}

function stepLine(step: number, roles: StepLine["roles"]): StepLine {
  return {
    type: "step",
    step,
    ts: "2026-01-01T00:00:00.000Z",
    seconds: 1,
    run: `steps/step_${String(step).padStart(4, "0")}`,
    roles,
    outcome: {
      episodes: 8,
      graded: 8,
      success_rate: 0.125 * step,
      metrics: { correct: 0.125 * step },
    },
    categories: {
      maths: { score_mean: 2 + step, scored: 4, success_rate: 0.5 },
      [HOSTILE_CATEGORY]: { score_mean: 1, scored: 4, success_rate: null },
    },
    outcome_weight: 0,
  };
}

function evalLine(
  step: number,
  success: number,
  roles: EvalLine["roles"],
): EvalLine {
  return {
    type: "eval",
    step,
    ts: "2026-01-01T00:00:00.000Z",
    seconds: 2,
    split: "held",
    run: `evals/step_${String(step).padStart(4, "0")}_held`,
    versions: {},
    outcome: {
      episodes: 8,
      graded: 8,
      success_rate: success,
      metrics: { correct: success, f1: 0.4237 },
    },
    roles,
    categories: {},
  };
}

/** A training run: solver trained 3 steps, its 2nd update skipped; a hostile role id beside it. */
function runA(): { manifest: TrainManifest; lines: MetricsLine[] } {
  return {
    manifest: manifest("demo__train__0__1", ["solver", HOSTILE_ROLE], 0),
    lines: [
      evalLine(0, 0, { solver: { score_mean: null, scored: 0 } }),
      stepLine(1, {
        solver: roleStep(1, 0.3),
        [HOSTILE_ROLE]: roleStep(1, 0.1),
      }),
      stepLine(2, {
        solver: roleStep(2, null, {
          version: 1,
          skipped: "no_signal",
          masked: { unscored: 3, truncated: 1 },
          train: undefined,
        }),
        [HOSTILE_ROLE]: roleStep(2, 0.2),
      }),
      evalLine(2, 0.375, { solver: { score_mean: 6.25, scored: 8 } }),
      stepLine(3, {
        solver: roleStep(3, 0.5),
        [HOSTILE_ROLE]: roleStep(3, 0.3),
      }),
    ],
  };
}

async function writeRun(
  dir: string,
  run: { manifest: TrainManifest; lines: MetricsLine[] },
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "train.json"),
    JSON.stringify(run.manifest),
  );
  // Parsing each line here keeps the fixture in step with the metrics schema.
  await Deno.writeTextFile(
    join(dir, "metrics.jsonl"),
    run.lines.map((l) => JSON.stringify(MetricsLineSchema.parse(l)) + "\n")
      .join(""),
  );
}

async function withRuns(
  fn: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The plot figure whose title is `title`. */
function chart(page: string, title: string): string {
  const at = page.indexOf(`<h2>${title}</h2>`);
  assert.ok(at >= 0, `no chart "${title}"`);
  return page.slice(
    page.lastIndexOf("<figure", at),
    page.indexOf("</figure>", at),
  );
}

/** The legend labels of the chart titled `title`. */
function legend(page: string, title: string): readonly string[] {
  return plotMarks(chart(page, title)).legend;
}

Deno.test("writeTrainingReport() writes report.html with the header, every chart and its series", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    await writeRun(dir, runA());
    const path = await writeTrainingReport(dir);
    assert.equal(path, join(dir, "report.html"));
    const page = await Deno.readTextFile(path);
    for (
      const title of [
        "Mean reward per role",
        "Mean coach score per role",
        "Success rate per eval split",
        "Eval metric correct (mean)",
        "Eval metric f1 (mean)",
        "Eval coach score per role",
        "Coach score by task category",
        "Trainer loss per role",
        "Trainer KL per role",
        "Trainer grad norm per role",
      ]
    ) chart(page, title);
    assert.ok(legend(page, "Mean reward per role").includes("solver"));
    assert.ok(legend(page, "Success rate per eval split").includes("held"));
    assert.ok(
      legend(page, "Success rate per eval split").includes("train rollouts"),
    );
    assert.ok(legend(page, "Coach score by task category").includes("maths"));
    assert.match(page, /3 done \/ 5 planned/);
    assert.match(page, /solver@2/);
    assert.match(page, /Per-action coach rewards only/);
    assert.match(page, /The run is running/);
    assert.match(page, /<a href="steps\/step_0002\/">steps\/step_0002<\/a>/);
    assert.match(page, /<a href="evals\/step_0002_held\/">/);
    assert.ok(!page.includes("<script"), "no scripts at all");
  });
});

Deno.test("writeTrainingReport() puts each eval's success rate, metrics and role scores in the eval table", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    await writeRun(dir, runA());
    const page = await Deno.readTextFile(await writeTrainingReport(dir));
    assert.match(
      page,
      /<thead><tr><th>step<\/th><th>split<\/th><th>graded<\/th><th>success rate<\/th><th>correct<\/th><th>f1<\/th><th>solver score<\/th><th>run<\/th><\/tr><\/thead>/,
    );
    assert.match(
      page,
      /<tr><td>2<\/td><td>held<\/td><td>8 \/ 8<\/td><td>37\.5%<\/td><td>0\.38<\/td><td>0\.42<\/td><td>6\.25<\/td><td><a href="evals\/step_0002_held\/">/,
    );
    assert.match(
      page,
      /<tr><td>0<\/td><td>held<\/td><td>8 \/ 8<\/td><td>0\.0%<\/td><td>0<\/td><td>0\.42<\/td><td>–<\/td>/,
    );
  });
});

Deno.test("writeTrainingReport() escapes a hostile role and category name", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    await writeRun(dir, runA());
    const page = await Deno.readTextFile(await writeTrainingReport(dir));
    assert.ok(!page.includes("<script"));
    assert.ok(!page.includes("<img"));
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;@2/);
    assert.match(
      page,
      /<th>&lt;script&gt;alert\(1\)&lt;\/script&gt; reward<\/th>/,
    );
    assert.match(chart(page, "Mean reward per role"), /&lt;script&gt;/);
    assert.match(chart(page, "Coach score by task category"), /&lt;img src=x/);
  });
});

Deno.test("writeTrainingReport() shows a skipped update as a gap and counts masked samples per reason", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    await writeRun(dir, runA());
    const page = await Deno.readTextFile(await writeTrainingReport(dir));
    // solver has no loss at step 2: two lone dots; the other role one line through 3 dots.
    const loss = chart(page, "Trainer loss per role");
    assert.equal(plotMarks(loss).segments.length, 1);
    assert.equal(plotMarks(loss).points, 5);
    assert.equal(
      plotMarks(chart(page, "Mean reward per role")).segments.length,
      1,
    );
    assert.match(
      page,
      /<th>masked: unscored<\/th><th>masked: truncated<\/th><\/tr><\/thead><tbody><tr><td>solver<\/td><td>2<\/td><td>0<\/td><td>1<\/td><td>24<\/td><td>3<\/td><td>1<\/td><\/tr>/,
    );
    assert.match(
      page,
      /<tr><td>2<\/td><td>solver<\/td><td>skipped: no_signal<\/td><td>8<\/td><td>unscored 3, truncated 1<\/td><\/tr>/,
    );
    assert.match(page, /<td>v1 \(skipped\)<\/td>/);
  });
});

Deno.test("writeTrainingReport() with against overlays run B's curves and names both runs", async () => {
  await withRuns(async (root) => {
    const a = join(root, "a");
    const b = join(root, "b");
    await writeRun(a, runA());
    await writeRun(b, {
      manifest: manifest("demo__train__0__2", ["solver"], 1),
      lines: [
        stepLine(1, { solver: roleStep(1, 0.9) }),
        evalLine(2, 0.5, { solver: { score_mean: 4, scored: 8 } }),
        stepLine(2, { solver: roleStep(2, 0.8) }),
      ],
    });
    const page = await Deno.readTextFile(
      await writeTrainingReport(a, { against: b }),
    );
    for (
      const title of [
        "Mean reward per role",
        "Mean coach score per role",
        "Success rate per eval split",
        "Eval coach score per role",
      ]
    ) {
      const marks = plotMarks(chart(page, title));
      assert.ok(
        marks.legend.some((l) => /^(solver|held) \(B\)$/.test(l)),
        title,
      );
      assert.ok(marks.dashedLines >= 1, title);
    }
    assert.doesNotMatch(chart(page, "Trainer loss per role"), /\(B\)/);
    assert.match(page, /Comparing two training runs/);
    assert.match(
      page,
      /A \(solid lines\): demo__train__0__1, outcome_weight 0\. B \(dashed lines, series named “… \(B\)”\): demo__train__0__2 from [^,]*, outcome_weight 1\./,
    );
    assert.match(page, /<caption>Eval results, run B<\/caption>/);
    assert.match(
      page,
      /<tr><td>2<\/td><td>held<\/td><td>8 \/ 8<\/td><td>50\.0%<\/td>/,
    );

    const pageB = await Deno.readTextFile(await writeTrainingReport(b));
    assert.match(pageB, /Shared outcome reward only/);
    assert.doesNotMatch(pageB, /\(B\)</);
  });
});

Deno.test("writeTrainingReport() reports a run with no step yet without failing", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    await writeRun(dir, {
      manifest: manifest("demo__train__0__3", ["solver"], 0),
      lines: [],
    });
    const page = await Deno.readTextFile(await writeTrainingReport(dir));
    assert.match(page, /0 done \/ 5 planned/);
    assert.match(page, /No evaluation ran/);
    assert.match(chart(page, "Mean reward per role"), />no data</);
  });
});

Deno.test("writeTrainingReport() rejects a directory that deno task train did not write", async () => {
  await withRuns(async (root) => {
    await assert.rejects(writeTrainingReport(root), {
      message:
        `Cannot write the report of ${root}: it has no train.json; pass a directory that deno task train wrote`,
    });
    const run = join(root, "run");
    await Deno.mkdir(run);
    await Deno.writeTextFile(
      join(run, "train.json"),
      JSON.stringify({ kind: "run" }),
    );
    await assert.rejects(
      writeTrainingReport(run),
      /Cannot write the report of .*: its train\.json is not a training manifest \(kind "run"\)/,
    );
    const a = join(root, "a");
    await writeRun(a, runA());
    await assert.rejects(writeTrainingReport(a, { against: root }), {
      message:
        `Cannot read ${root} to compare ${a} against: it has no train.json; pass a directory that deno task train wrote`,
    });
  });
});

Deno.test("writeTrainingReport() shows KL, grad norm, clip fraction, entropy and the refused or masked fraction per role from metrics.jsonl", async () => {
  await withRuns(async (root) => {
    const dir = join(root, "a");
    const train = (step: number, extra: Record<string, number> = {}) => ({
      loss: 0.01,
      kl: 0.002 * step,
      grad_norm: 0.5 + step,
      clip_fraction: 0.125 * step,
      entropy: 5.25 - step,
      optimizer_steps: 4,
      kl_only: 0,
      masked_samples: 0,
      ...extra,
    });
    await writeRun(dir, {
      manifest: manifest("demo__train__0__4", ["solver"], 0),
      lines: [
        stepLine(1, { solver: roleStep(1, 0.3, { train: train(1) }) }),
        // All rewards equal (KL only); 2 actions masked before sending, 2 refused, 1 with no trainable token.
        stepLine(2, {
          solver: roleStep(2, 0, {
            samples: 6,
            masked: { unscored: 2, refused: 2 },
            train: train(2, { kl_only: 1, masked_samples: 1 }),
          }),
        }),
        // A run written before clip_fraction existed: its clipfrac is shown.
        stepLine(3, {
          solver: roleStep(3, 0.5, {
            train: { kl: 0.01, grad_norm: 2, clipfrac: 0.5 },
          }),
        }),
      ],
    });
    const page = await Deno.readTextFile(await writeTrainingReport(dir));
    // One dot per step with the figure (the step-3 line has no entropy).
    for (
      const [title, dots] of [
        ["Trainer KL per role", 3],
        ["Trainer grad norm per role", 3],
        ["Trainer clip fraction per role", 3],
        ["Trainer entropy per role", 2],
        ["Refused or masked fraction per role", 3],
      ] as const
    ) {
      const marks = plotMarks(chart(page, title));
      assert.ok(marks.legend.includes("solver"), title);
      assert.equal(marks.points, dots, title);
    }
    assert.match(
      page,
      /<th>step<\/th><th>role<\/th><th>update<\/th><th>KL<\/th><th>grad norm<\/th><th>clip fraction<\/th><th>entropy<\/th><th>optimizer steps<\/th><th>signal<\/th><th>refused or masked<\/th>/,
    );
    assert.match(
      page,
      /<tr><td>1<\/td><td>solver<\/td><td>v1<\/td><td>0\.00200<\/td><td>1\.500<\/td><td>0\.125<\/td><td>4\.250<\/td><td>4<\/td><td>reward \+ KL<\/td><td>0\.0%<\/td><\/tr>/,
    );
    // (2 unscored + 2 refused + 1 without tokens) of 6 sent + 4 masked = 50%.
    assert.match(
      page,
      /<tr><td>2<\/td><td>solver<\/td><td>v2<\/td><td>0\.00400<\/td><td>2\.500<\/td><td>0\.250<\/td><td>3\.250<\/td><td>4<\/td><td>KL only<\/td><td>50\.0%<\/td><\/tr>/,
    );
    assert.match(
      page,
      /<tr><td>3<\/td><td>solver<\/td><td>v3<\/td><td>0\.0100<\/td><td>2<\/td><td>0\.500<\/td><td>–<\/td><td>–<\/td><td>reward \+ KL<\/td><td>0\.0%<\/td><\/tr>/,
    );
  });
});
