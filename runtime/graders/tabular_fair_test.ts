// Fair, comparable tabular scores: the constant baseline, the relative gap, invalid labels, 0/1 codes,
// and answers located from the dataset file (issue 12, parts 3 and 5).
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import type { Task } from "../load_tasks.ts";
import { tabularMetricGrader } from "./tabular_metric.ts";
import { relativeGap } from "./_tabular_score.ts";

interface Case {
  readonly answers: string;
  readonly submission?: string;
  readonly row?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
}

/** Grades in a temp folder laid out as a built task set: <dir>/tasks/t1/answers.csv, row paths relative to <dir>. */
async function grade(c: Case) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "tasks", "t1"), { recursive: true });
    await Deno.mkdir(join(dir, "ws"));
    await Deno.writeTextFile(
      join(dir, "tasks", "t1", "answers.csv"),
      c.answers,
    );
    if (c.submission !== undefined) {
      await Deno.writeTextFile(join(dir, "ws", "submission.csv"), c.submission);
    }
    const graph = {
      // The spec lives elsewhere: answers must be found from the row's dataset folder, not the spec's.
      spec_file: "/nonexistent/spec.yaml",
      outcome: {
        grader: "tabular_metric",
        params: {
          submission: "submission.csv",
          answers: "answers_file",
          metric_field: "metric",
          ...c.params,
        },
        fair: {},
      },
    } as unknown as ExecutionGraph;
    const task: Task = {
      id: "t1",
      index: 0,
      split: "eval",
      category: null,
      inputs: {},
      answer: undefined,
      files: [],
      row: { answers_file: "tasks/t1/answers.csv", ...c.row },
      dir,
    };
    return await tabularMetricGrader({
      graph,
      task,
      outputs: {},
      workspace: join(dir, "ws"),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Four classes, the majority "a" holds 40%: a constant guess scores accuracy 0.4, below the old fair 0.5.
const FOUR = "id,y\n1,a\n2,a\n3,a\n4,a\n5,b\n6,b\n7,c\n8,c\n9,d\n10,d\n";
const constant = (answers: string, value: string) =>
  answers.trim().split("\n").map((l, i) =>
    i === 0 ? l : `${l.split(",")[0]},${value}`
  ).join("\n") + "\n";

Deno.test("tabular grader: an invalid submission scores no better than a valid constant one", async () => {
  const row = { metric: "accuracy", baseline_prediction: "a" };
  const invalid = await grade({ answers: FOUR, row });
  const flat = await grade({
    answers: FOUR,
    row,
    submission: constant(FOUR, "a"),
  });
  assert.equal(invalid.valid, false);
  assert.equal(flat.valid, true, flat.reason);
  assert.equal(invalid.metrics.accuracy, 0.4);
  assert.equal(flat.metrics.accuracy, 0.4);
  assert.equal(invalid.metrics.score, 0);
  assert.equal(flat.metrics.score, 0);
  for (const k of Object.keys(flat.metrics)) {
    assert.ok(invalid.metrics[k]! <= flat.metrics[k]!, k);
  }
  assert.match(
    invalid.summary,
    /constant baseline "a" \(the task's baseline_prediction\)/,
  );
  const perfect = await grade({ answers: FOUR, row, submission: FOUR });
  assert.equal(perfect.metrics.score, 1);
});

Deno.test("tabular grader: score is the direction-aware relative gap, comparable across metrics", async () => {
  assert.equal(relativeGap("accuracy", 0.75, 0.5), 0.5);
  assert.equal(relativeGap("accuracy", 0.3, 0.4), 0);
  assert.equal(relativeGap("rmse", 5, 10), 0.5);
  assert.equal(relativeGap("rmse", 12, 10), 0);
  assert.equal(relativeGap("rmsle", 0, 0.9), 1);
  assert.equal(relativeGap("roc_auc", 0.75, 0.5), 0.5);
  assert.equal(relativeGap("log_loss", 0.3, 0.6), 0.5);
  assert.equal(relativeGap("accuracy", 1, 1), 1);
  assert.equal(relativeGap("accuracy", 0.9, 1), 0);
  const answers = "id,v\n1,1\n2,2\n3,3\n4,6\n";
  for (const metric of ["rmse", "rmsle", "mae"]) {
    const row = { metric, baseline_prediction: "3" };
    const g = await grade({
      answers,
      row,
      submission: "id,v\n1,1\n2,2\n3,3\n4,4.5\n",
    });
    assert.ok(
      g.metrics.score! > 0 && g.metrics.score! < 1,
      `${metric}: ${g.metrics.score}`,
    );
    const base = await grade({
      answers,
      row,
      submission: constant(answers, "3"),
    });
    assert.equal(base.metrics.score, 0, metric);
  }
});

Deno.test("tabular grader: NaN and infinities are not class labels", async () => {
  const answers = "id,y\n1,a\n2,b\n3,a\n";
  for (const bad of ["nan", "NaN", "inf", "-Infinity", "+inf"]) {
    const g = await grade({
      answers,
      row: { metric: "accuracy", baseline_prediction: "a" },
      submission: `id,y\n1,a\n2,${bad}\n3,a\n`,
    });
    assert.equal(g.valid, false, bad);
    assert.match(g.reason!, /not a class label or a finite score/);
  }
  await assert.rejects(
    () => grade({ answers: "id,y\n1,a\n2,NaN\n", row: { metric: "accuracy" } }),
    /NaN and infinities are not class labels/,
  );
});

Deno.test("tabular grader: on a string-label binary task 1 means the class that sorts last, 0 the other", async () => {
  const answers = "id,had_affair\n1,no\n2,yes\n3,no\n4,yes\n";
  const row = { metric: "accuracy", baseline_prediction: "no" };
  const coded = await grade({
    answers,
    row,
    submission: "id,had_affair\n1,0\n2,1\n3,0\n4,1\n",
  });
  assert.equal(coded.valid, true, coded.reason);
  assert.equal(coded.metrics.accuracy, 1);
  assert.match(coded.summary, /positive "yes"/);
  // Probabilities are thresholded at 0.5; the labels themselves score the same.
  const probs = await grade({
    answers,
    row,
    submission: "id,had_affair\n1,0.2\n2,0.7\n3,0.6\n4,0.9\n",
  });
  assert.equal(probs.metrics.accuracy, 0.75);
  const labels = await grade({
    answers,
    row,
    submission: "id,had_affair\n1,no\n2,yes\n3,no\n4,yes\n",
  });
  assert.equal(labels.metrics.accuracy, 1);
});

Deno.test("tabular grader: a row's answers path is relative to its dataset file, not the working directory", async () => {
  const g = await grade({
    answers: FOUR,
    row: { metric: "accuracy", baseline_prediction: "a" },
    submission: FOUR,
  });
  assert.equal(g.valid, true, g.reason);
  assert.match(String(g.expected), /\/tasks\/t1\/answers\.csv$/);
  assert.ok(String(g.expected).startsWith("/"));
});
