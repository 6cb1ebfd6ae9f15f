import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import type { Task } from "../load_tasks.ts";
import type { GradeInput } from "./grade.ts";
import { tabularMetricGrader } from "./tabular_metric.ts";
import * as m from "./tabular_metrics.ts";

/** A seeded generator, so the data compared with scikit-learn is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function sklearn(data: unknown, code: string): Promise<number[]> {
  const script =
    "import json, sys, numpy as np\nfrom sklearn import metrics as M\n" +
    "d = json.load(sys.stdin)\n" + code;
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(data)));
  await writer.close();
  const out = await child.output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs scikit-learn ${expected}`,
  );
}

Deno.test("classification metrics match scikit-learn", async () => {
  const r = rng(7);
  const labels = ["cat", "dog", "bird", "fish"];
  const yTrue = Array.from({ length: 300 }, () => labels[Math.floor(r() * 4)]!);
  const yPred = yTrue.map((t) => r() < 0.6 ? t : labels[Math.floor(r() * 4)]!);
  const bTrue = Array.from({ length: 300 }, () => r() < 0.3 ? "1" : "0");
  // Rounded scores create ties; 0 and 1 exercise the clipping of log loss.
  const score = bTrue.map((t) =>
    Math.min(
      1,
      Math.max(0, Math.round((r() * 0.8 + (t === "1" ? 0.3 : 0)) * 10) / 10),
    )
  );
  const bPred = score.map((s) => s >= 0.5 ? "1" : "0");
  const isPos = bTrue.map((t) => t === "1");
  const want = await sklearn(
    { yTrue, yPred, bTrue, bPred, score },
    `yt = np.array([int(x) for x in d["bTrue"]]); yp = np.array([int(x) for x in d["bPred"]])
print(json.dumps([M.accuracy_score(d["yTrue"], d["yPred"]),
  M.balanced_accuracy_score(d["yTrue"], d["yPred"]),
  M.f1_score(d["yTrue"], d["yPred"], average="macro"),
  M.f1_score(yt, yp, pos_label=1), M.roc_auc_score(yt, d["score"]),
  M.log_loss(yt, d["score"], eps=1e-15), M.accuracy_score(yt, yp)]))`,
  );
  close(m.accuracy(yTrue, yPred), want[0]!, "accuracy");
  close(m.balancedAccuracy(yTrue, yPred), want[1]!, "balanced_accuracy");
  close(m.f1Macro(yTrue, yPred), want[2]!, "f1_macro");
  close(m.f1(bTrue, bPred, "1"), want[3]!, "f1");
  close(m.rocAuc(isPos, score), want[4]!, "roc_auc");
  close(m.logLoss(isPos, score), want[5]!, "log_loss");
  close(m.accuracy(bTrue, bPred), want[6]!, "binary accuracy");
});

Deno.test("regression metrics and quartiles match scikit-learn and numpy", async () => {
  const r = rng(11);
  const yTrue = Array.from({ length: 257 }, () => r() * 100);
  const yPred = yTrue.map((t) => Math.max(0, t + (r() - 0.5) * 30));
  const want = await sklearn(
    { yTrue, yPred },
    `t, p = d["yTrue"], d["yPred"]
print(json.dumps([M.mean_squared_error(t, p, squared=False),
  float(np.sqrt(M.mean_squared_log_error(t, p))), M.mean_absolute_error(t, p),
  M.median_absolute_error(t, p), M.r2_score(t, p),
  float(np.percentile(t, 25)), float(np.percentile(t, 75))]))`,
  );
  close(m.rmse(yTrue, yPred), want[0]!, "rmse");
  close(m.rmsle(yTrue, yPred), want[1]!, "rmsle");
  close(m.mae(yTrue, yPred), want[2]!, "mae");
  close(m.medae(yTrue, yPred), want[3]!, "medae");
  close(m.r2(yTrue, yPred), want[4]!, "r2");
  const stats = m.targetStats(yTrue);
  close(stats.q1, want[5]!, "q1");
  close(stats.q3, want[6]!, "q3");
  assert.throws(() => m.rmsle([1, 2], [1, -2]), RangeError);
  assert.throws(() => m.rocAuc([true, true], [0.1, 0.2]), RangeError);
  assert.throws(() => m.rmse([], []), RangeError);
});

const FAIR = { accuracy: 0.5, f1: 0, rmse_pct_of_range: 50 };

interface Setup {
  readonly answers: string;
  readonly submission?: string;
  readonly params?: Record<string, unknown>;
  readonly row?: unknown;
}

/** A spec folder with answers/<task id>.csv and a workspace with submission.csv; returns the grade. */
async function grade(setup: Setup) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "answers"));
    await Deno.mkdir(join(dir, "ws"));
    await Deno.writeTextFile(join(dir, "answers", "t1.csv"), setup.answers);
    if (setup.submission !== undefined) {
      await Deno.writeTextFile(
        join(dir, "ws", "submission.csv"),
        setup.submission,
      );
    }
    const graph = {
      spec_file: join(dir, "spec.yaml"),
      outcome: {
        grader: "tabular_metric",
        params: {
          submission: "submission.csv",
          answers: "answers/{{ task.id }}.csv",
          ...setup.params,
        },
        fair: FAIR,
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
      row: setup.row ?? {},
    };
    const input: GradeInput = {
      graph,
      task,
      outputs: {},
      workspace: join(dir, "ws"),
    };
    return await tabularMetricGrader(input);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const LABELS = "id,species\n1,cat\n2,dog\n3,bird\n4,cat\n5,dog\n6,cat\n";

Deno.test("grades a valid multi-class submission with string labels", async () => {
  const g = await grade({
    answers: LABELS,
    // Another order, CRLF line ends, a quoted field and a column name that differs from the target.
    submission:
      'id,label\r\n6,cat\r\n2,dog\r\n3,"cat"\r\n1,cat\r\n5,bird\r\n4,cat\r\n',
    params: { metric_field: "meta.metric" },
    row: { meta: JSON.stringify({ metric: "Accuracy" }) },
  });
  assert.equal(g.valid, true);
  assert.equal(g.fair, false);
  assert.equal(g.metrics.valid_submission, 1);
  // The relative gap to the answers' majority ("cat", accuracy 0.5): (4/6 - 0.5) / (1 - 0.5).
  assert.ok(Math.abs(g.metrics.score! - 1 / 3) < 1e-12, `${g.metrics.score}`);
  assert.equal(g.metrics.accuracy, 4 / 6);
  assert.equal(g.metrics.balanced_accuracy, (1 + 0.5 + 0) / 3);
  assert.equal(g.metrics.roc_auc, undefined);
  assert.match(g.summary, /3-class classification/);
  assert.match(
    g.summary,
    /accuracy = 0\.6667 \(higher is better; the constant baseline "cat"/,
  );
});

Deno.test("grades binary probabilities by ROC-AUC, answers from a row field directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "test_answer.csv"),
      "PassengerId,Survived\n1,yes\n2,no\n3,yes\n4,no\n",
    );
    const g = await grade({
      answers: "unused\n",
      submission: "PassengerId,Survived\n1,0.9\n2,0.2\n3,0.4\n4,0.6\n",
      params: { answers: "meta.answer_dir", metric: "ROC-AUC" },
      row: { meta: { answer_dir: dir } },
    });
    assert.equal(g.valid, true, g.reason);
    assert.equal(g.metrics.roc_auc, 0.75);
    assert.equal(g.metrics.score, 0.5);
    assert.equal(g.metrics.accuracy, 0.5);
    assert.ok(g.metrics.log_loss! > 0);
    assert.match(g.summary, /positive "yes"/);
    assert.equal(g.expected, join(dir, "test_answer.csv"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grades a valid regression submission with normalised RMSE", async () => {
  const g = await grade({
    answers: "id,price\na,10\nb,20\nc,30\nd,50\ne,60\n",
    submission: "id,price\na,12\nb,18\nc,33\nd,50\ne,55\n",
  });
  assert.equal(g.valid, true, g.reason);
  const rmse = Math.sqrt((4 + 4 + 9 + 0 + 25) / 5);
  const meanRmse = Math.sqrt((576 + 196 + 16 + 256 + 676) / 5);
  assert.equal(g.metrics.rmse, rmse);
  assert.ok(
    Math.abs(g.metrics.score! - (meanRmse - rmse) / meanRmse) < 1e-12,
    `${g.metrics.score}`,
  );
  assert.equal(g.metrics.rmse_pct_of_range, 100 * rmse / 50);
  assert.equal(g.metrics.rmse_pct_of_iqr, 100 * rmse / 30);
  assert.equal(g.metrics.mae_pct_of_range, 100 * 2.4 / 50);
  assert.ok(g.metrics.rmsle !== undefined && g.metrics.r2 !== undefined);
  assert.match(g.summary, /Task type: regression/);
  assert.match(g.summary, /range 50/);
  assert.match(g.summary, /of the range and .*% of the IQR/);
});

const INVALID: [string, Setup, RegExp][] = [
  [
    "missing file",
    { answers: LABELS },
    /^no submission\.csv in the workspace$/,
  ],
  ["missing id column", {
    answers: LABELS,
    submission: "key,species\n1,cat\n",
  }, /has no "id" column \(columns: "key", "species"\)/],
  ["missing prediction column", {
    answers: LABELS,
    submission: "id,a,b\n1,cat,dog\n",
  }, /has no "species" prediction column/],
  ["duplicate ids", {
    answers: LABELS,
    submission: "id,species\n1,cat\n2,dog\n1,cat\n",
  }, /repeats id "1" \(data rows 1 and 3\)/],
  ["unknown id", {
    answers: LABELS,
    submission: "id,species\n1,cat\n99,dog\n",
  }, /has id "99", which is not in the answers/],
  ["row count", {
    answers: LABELS,
    submission: "id,species\n1,cat\n2,dog\n3,bird\n4,cat\n",
  }, /has 4 rows, expected 6 \(missing ids: "5", "6"\)/],
  ["empty label", {
    answers: LABELS,
    submission: "id,species\n1,cat\n2,dog\n3,bird\n4,cat\n5,dog\n6,\n",
  }, /prediction for id "6" is empty/],
  ["ragged row", {
    answers: LABELS,
    submission: "id,species\n1,cat,extra\n",
  }, /data row 1 has 3 fields, expected 2/],
  ["unclosed quote", {
    answers: LABELS,
    submission: 'id,species\n1,"cat\n',
  }, /not valid CSV: a quoted field is not closed/],
  [
    "empty file",
    { answers: LABELS, submission: "" },
    /submission\.csv is empty/,
  ],
  ["NaN regression prediction", {
    answers: "id,y\n1,1.5\n2,2.5\n3,7.25\n",
    submission: "id,y\n1,1.5\n2,NaN\n3,7\n",
  }, /prediction for id "2" is "NaN", not a finite number/],
  ["non-numeric regression prediction", {
    answers: "id,y\n1,1.5\n2,2.5\n3,7.25\n",
    submission: "id,y\n1,1.5\n2,2\n3,high\n",
  }, /prediction for id "3" is "high", not a finite number/],
  ["negative values for RMSLE", {
    answers: "id,y\n1,1.5\n2,2.5\n3,7.25\n",
    submission: "id,y\n1,1.5\n2,-2\n3,7\n",
    params: { metric: "rmsle" },
  }, /rmsle needs non-negative values/],
  ["non-numeric probability", {
    answers: "id,y\n1,1\n2,0\n",
    submission: "id,y\n1,0.7\n2,low\n",
    params: { metric: "log_loss" },
  }, /prediction for id "2" is "low", not a number/],
];

for (const [name, setup, reason] of INVALID) {
  Deno.test(`grades an invalid submission with fair values: ${name}`, async () => {
    const g = await grade(setup);
    assert.equal(g.valid, false);
    assert.equal(g.fair, true);
    assert.match(g.reason ?? "", reason);
    assert.equal(g.metrics.valid_submission, 0);
    assert.equal(g.metrics.score, 0);
    // Fair values are the constant baseline's metrics: never better than a valid constant submission.
    const ids = setup.answers.trim().split("\n").slice(1).map((l) =>
      l.split(",")[0]
    );
    const header = setup.answers.slice(0, setup.answers.indexOf("\n"));
    const value = setup.answers.includes("cat") ? "cat" : "1";
    const constant = await grade({
      ...setup,
      submission: `${header}\n${
        ids.map((id) => `${id},${value}`).join("\n")
      }\n`,
    });
    assert.equal(constant.valid, true, constant.reason);
    for (const k of Object.keys(constant.metrics)) {
      assert.ok(g.metrics[k] !== undefined, `no fair value for ${k}`);
    }
    assert.ok(g.metrics.score! <= constant.metrics.score!);
    assert.match(g.summary, /Invalid submission: .*fair values/);
  });
}

Deno.test("refuses a symbolic link and an oversized submission", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "elsewhere.csv");
    await Deno.writeTextFile(target, "id,species\n");
    const ws = join(dir, "ws");
    await Deno.mkdir(ws);
    await Deno.symlink(target, join(ws, "submission.csv"));
    await Deno.writeTextFile(join(dir, "answers.csv"), LABELS);
    const graph = {
      spec_file: join(dir, "spec.yaml"),
      outcome: {
        grader: "tabular_metric",
        params: { submission: "submission.csv", answers: "answers.csv" },
        fair: FAIR,
      },
    } as unknown as ExecutionGraph;
    const task = {
      id: "t",
      row: {},
      inputs: {},
      category: null,
    } as unknown as Task;
    const input = { graph, task, outputs: {}, workspace: ws };
    const linked = await tabularMetricGrader(input);
    assert.match(linked.reason ?? "", /submission\.csv is a symbolic link/);
    assert.equal(linked.metrics.score, 0);
    await Deno.remove(join(ws, "submission.csv"));
    const file = await Deno.open(join(ws, "submission.csv"), {
      create: true,
      write: true,
    });
    await file.truncate(64 * 1024 * 1024 + 1);
    file.close();
    const big = await tabularMetricGrader(input);
    assert.match(big.reason ?? "", /over the limit of 67108864/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("throws for a missing answers file, never grading it as the agent's failure", async () => {
  await assert.rejects(
    () =>
      grade({ answers: LABELS, params: { answers: "nope/{{ task.id }}.csv" } }),
    /Cannot read answers file ".*nope\/t1\.csv": no such file/,
  );
});
