import { dirname, isAbsolute, join } from "node:path";
import { Liquid } from "liquidjs";
import { getPath } from "../load_tasks.ts";
import type { Grade, GradeInput, Grader } from "./grade.ts";
import * as m from "./tabular_metrics.ts";

/** Largest submission file read, in bytes. */
const MAX_SUBMISSION_BYTES = 64 * 1024 * 1024;
/** File names looked for when the answers path is a directory (DSBench's `answer_dir`). */
const ANSWER_FILES = ["test_answer.csv", "answers.csv"];
const CLASSIFICATION = [
  "accuracy",
  "balanced_accuracy",
  "f1",
  "f1_macro",
  "roc_auc",
  "log_loss",
];
const REGRESSION = [
  "rmse",
  "rmsle",
  "mae",
  "medae",
  "r2",
  "rmse_pct_of_range",
  "rmse_pct_of_iqr",
  "mae_pct_of_range",
];
const HIGHER_IS_BETTER = new Set([
  ...CLASSIFICATION.filter((x) => x !== "log_loss"),
  "r2",
]);
const ALIASES: Record<string, string> = {
  auc: "roc_auc",
  rocauc: "roc_auc",
  areaundertheroccurve: "roc_auc",
  logloss: "log_loss",
  crossentropy: "log_loss",
  f1score: "f1",
  macrof1: "f1_macro",
  r2score: "r2",
  rootmeansquarederror: "rmse",
  rootmeansquaredlogerror: "rmsle",
  rootmeansquaredlogarithmicerror: "rmsle",
  meanabsoluteerror: "mae",
  medianabsoluteerror: "medae",
};
for (const name of [...CLASSIFICATION, ...REGRESSION]) {
  ALIASES[name.replaceAll("_", "")] = name;
}
const liquid = new Liquid({ strictVariables: true });

/** Maps a metric name as a spec or dataset writes it ("ROC-AUC", "Root Mean Squared Error") to ours, else null. */
function metricName(raw: string): string | null {
  return ALIASES[raw.toLowerCase().replace(/[^a-z0-9]/g, "")] ?? null;
}

function num(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
}

/** A label's canonical form: trimmed, numbers written one way ("1.0" and "1" are the same class). */
function label(s: string): string {
  const n = num(s);
  return Number.isNaN(n) ? s.trim() : String(n);
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function quoted(xs: readonly string[]): string {
  return xs.map((x) => `"${x}"`).join(", ");
}

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks, CRLF or LF rows, a BOM, blank lines skipped. */
function parseCsv(text: string): string[][] | string {
  const rows: string[][] = [];
  let row: string[] = [], field = "", inQuotes = false, wasQuoted = false;
  const endField = () => {
    row.push(field);
    field = "";
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"', i++);
      else inQuotes = false;
    } else if (c === '"' && field === "" && !wasQuoted) {
      inQuotes = wasQuoted = true;
    } else if (c === ",") (endField(), wasQuoted = false);
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endField();
      if (row.length > 1 || row[0] !== "" || wasQuoted) rows.push(row);
      row = [], wasQuoted = false;
    } else field += c;
  }
  if (inQuotes) return "a quoted field is not closed";
  if (row.length > 0 || field !== "" || wasQuoted) (endField(), rows.push(row));
  return rows;
}

interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

function toTable(text: string, name: string): Table | string {
  const parsed = parseCsv(text);
  if (typeof parsed === "string") return `${name} is not valid CSV: ${parsed}`;
  const [header, ...rows] = parsed;
  if (header === undefined) return `${name} is empty`;
  const bad = rows.findIndex((r) => r.length !== header.length);
  if (bad >= 0) {
    return `${name} data row ${bad + 1} has ${
      rows[bad]!.length
    } fields, expected ${header.length}`;
  }
  return { header: header.map((h) => h.trim()), rows };
}

async function answersFile(
  input: GradeInput,
  template: string,
): Promise<string> {
  const fromRow = template.includes("{{")
    ? undefined
    : getPath(input.task.row, template);
  let path = typeof fromRow === "string" && fromRow !== ""
    ? fromRow
    : undefined;
  if (path === undefined) {
    const t = input.task;
    const rendered = await liquid.parseAndRender(template, {
      task: { id: t.id, category: t.category, ...t.inputs },
    });
    path = isAbsolute(rendered)
      ? rendered
      : join(dirname(input.graph.spec_file), rendered);
  }
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) {
    throw new Error(`Cannot read answers file "${path}": no such file`);
  }
  if (!info.isDirectory) return path;
  for (const name of ANSWER_FILES) {
    if (await Deno.stat(join(path, name)).then((s) => s.isFile, () => false)) {
      return join(path, name);
    }
  }
  throw new Error(
    `Cannot find the answers in "${path}": no ${ANSWER_FILES.join(" or ")}`,
  );
}

async function readSubmission(dir: string, rel: string): Promise<string> {
  const path = join(dir, rel);
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null) return `no ${rel} in the workspace`;
  if (info.isSymlink) return `${rel} is a symbolic link, not a file`;
  if (!info.isFile) return `${rel} is not a regular file`;
  if (info.size > MAX_SUBMISSION_BYTES) {
    return `${rel} has ${info.size} bytes, over the limit of ${MAX_SUBMISSION_BYTES}`;
  }
  try {
    return "\0" +
      new TextDecoder("utf-8", { fatal: true }).decode(
        await Deno.readFile(path),
      );
  } catch {
    return `${rel} is not UTF-8 text`;
  }
}

/**
 * The task type. A metric named by the spec or row decides it; without one, the answers are a
 * classification target when any value is non-numeric, when they hold at most 2 distinct values, or when
 * they are integers with at most 10 distinct values; a regression target otherwise.
 */
function taskType(
  values: readonly string[],
  metric: string | null,
): "classification" | "regression" {
  const nums = values.map(num);
  if (metric !== null && CLASSIFICATION.includes(metric)) {
    return "classification";
  }
  if (metric !== null) {
    if (nums.some((x) => !Number.isFinite(x))) {
      throw new TypeError(
        `Cannot grade with "${metric}": the answers are not all numbers`,
      );
    }
    return "regression";
  }
  if (nums.some((x) => !Number.isFinite(x))) return "classification";
  const distinct = new Set(nums).size;
  return distinct <= 2 || (distinct <= 10 && nums.every(Number.isInteger))
    ? "classification"
    : "regression";
}

type Scored = { metrics: Record<string, number>; context: string } | string;

function classify(
  truth: readonly string[],
  preds: readonly string[],
  ids: readonly string[],
  metric: string,
): Scored {
  const yTrue = truth.map(label);
  const classes = [...new Set(yTrue)].sort((a, b) =>
    Number.isNaN(num(a) - num(b))
      ? (a < b ? -1 : a > b ? 1 : 0)
      : num(a) - num(b)
  );
  const binary = classes.length === 2, pos = classes[1]!, neg = classes[0]!;
  const probabilistic = metric === "roc_auc" || metric === "log_loss";
  if (probabilistic && !binary) {
    throw new TypeError(
      `Cannot compute "${metric}" for ${classes.length} classes: only binary targets are supported`,
    );
  }
  const scores = preds.map(num);
  const allNumeric = scores.every(Number.isFinite);
  const scoreMode = binary && allNumeric &&
    (probabilistic || preds.some((p) => !classes.includes(label(p))));
  for (const [i, p] of preds.entries()) {
    if (probabilistic && !Number.isFinite(scores[i]!)) {
      return `prediction for id "${ids[i]}" is "${p}", not a number`;
    }
    if (p.trim() === "") return `prediction for id "${ids[i]}" is empty`;
  }
  const yPred = scoreMode
    ? scores.map((s) => (s >= 0.5 ? pos : neg))
    : preds.map(label);
  const metrics: Record<string, number> = {
    accuracy: m.accuracy(yTrue, yPred),
    balanced_accuracy: m.balancedAccuracy(yTrue, yPred),
    f1_macro: m.f1Macro(yTrue, yPred),
  };
  if (binary) {
    const isPos = yTrue.map((t) => t === pos);
    metrics.f1 = m.f1(yTrue, yPred, pos);
    metrics.roc_auc = m.rocAuc(
      isPos,
      scoreMode ? scores : yPred.map((p) => (p === pos ? 1 : 0)),
    );
    const inUnit = scoreMode && scores.every((s) => s >= 0 && s <= 1);
    if (inUnit) metrics.log_loss = m.logLoss(isPos, scores);
    else if (metric === "log_loss") {
      return `log_loss needs probabilities in [0, 1]: predictions range from ${
        fmt(Math.min(...scores))
      } to ${fmt(Math.max(...scores))}`;
    }
  }
  const kind = binary
    ? `binary classification (classes ${quoted(classes)}; positive "${pos}")`
    : `${classes.length}-class classification`;
  return {
    metrics,
    context: `Task type: ${kind}; predictions read as ${
      scoreMode ? "scores of the positive class (labels at 0.5)" : "labels"
    }.`,
  };
}

function regress(
  truth: readonly string[],
  preds: readonly string[],
  ids: readonly string[],
  metric: string,
): Scored {
  const yTrue = truth.map(num), yPred = preds.map(num);
  const bad = yPred.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    return `prediction for id "${ids[bad]}" is "${
      preds[bad]
    }", not a finite number`;
  }
  const negative = [...yTrue, ...yPred].some((x) => x < 0);
  if (metric === "rmsle" && negative) {
    return `rmsle needs non-negative values: predictions range down to ${
      fmt(Math.min(...yPred))
    }`;
  }
  const rmse = m.rmse(yTrue, yPred),
    mae = m.mae(yTrue, yPred),
    s = m.targetStats(yTrue);
  const metrics: Record<string, number> = {
    rmse,
    mae,
    medae: m.medae(yTrue, yPred),
    r2: m.r2(yTrue, yPred),
  };
  if (!negative) metrics.rmsle = m.rmsle(yTrue, yPred);
  const pct: [string, number | null][] = [
    ["rmse_pct_of_range", m.pctOf(rmse, s.range)],
    ["rmse_pct_of_iqr", m.pctOf(rmse, s.iqr)],
    ["mae_pct_of_range", m.pctOf(mae, s.range)],
  ];
  for (const [k, v] of pct) if (v !== null) metrics[k] = v;
  const ofRange = metrics.rmse_pct_of_range, ofIqr = metrics.rmse_pct_of_iqr;
  return {
    metrics,
    context:
      `Task type: regression. Target: min ${fmt(s.min)}, max ${
        fmt(s.max)
      } (range ${fmt(s.range)}), quartiles ${fmt(s.q1)} / ${fmt(s.median)} / ${
        fmt(s.q3)
      } (IQR ${fmt(s.iqr)}), mean ${fmt(s.mean)}, std ${fmt(s.std)}. ` +
      `RMSE ${fmt(rmse)} is ${
        ofRange === undefined ? "n/a (constant target)" : `${fmt(ofRange)}%`
      } of the range and ${
        ofIqr === undefined ? "n/a (zero IQR)" : `${fmt(ofIqr)}%`
      } of the IQR.`,
  };
}

function fairGrade(
  input: GradeInput,
  reason: string,
  metric: string,
  expected: string,
  context: string,
): Grade {
  const fair = input.graph.outcome?.fair ?? {};
  const metrics: Record<string, number> = { ...fair, valid_submission: 0 };
  if (metrics.score === undefined && fair[metric] !== undefined) {
    metrics.score = fair[metric];
  }
  const listed =
    Object.entries(fair).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") ||
    "none declared";
  return {
    valid: false,
    correct: null,
    metrics,
    fair: true,
    answer: null,
    expected,
    reason,
    summary:
      `${context} Metric: ${metric}. Invalid submission: ${reason}. The episode counts as a failure, scored with the fair values (${listed}).`,
  };
}

/**
 * Grades a Kaggle-style submission: reads the workspace's `params.submission` CSV (no symlinks, at most
 * 64 MiB) and the task's answers CSV, validates columns, ids and values, joins on the id column and
 * computes the task's metric as `score` with every metric that applies to the task type. An invalid
 * submission gets the spec's fair values, `valid_submission` 0 and a reason.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tabularMetricGrader } from "./tabular_metric.ts";
 * assert.equal(typeof tabularMetricGrader, "function");
 * ```
 */
export const tabularMetricGrader: Grader = gradeTabular;

async function gradeTabular(input: GradeInput): Promise<Grade> {
  const outcome = input.graph.outcome;
  if (outcome?.grader !== "tabular_metric") {
    throw new TypeError(
      "Cannot use the tabular grader: the outcome is not tabular_metric",
    );
  }
  const p = outcome.params;
  const expected = await answersFile(input, p.answers);
  const answers = toTable(await Deno.readTextFile(expected), expected);
  if (typeof answers === "string") {
    throw new Error(`Cannot read the answers: ${answers}`);
  }
  const idCol = p.id_column ?? answers.header[0]!;
  const idAt = answers.header.indexOf(idCol);
  const target = answers.header.find((h) => h !== idCol);
  if (idAt < 0 || target === undefined) {
    throw new Error(
      `Cannot read the answers "${expected}": need an id column "${idCol}" and a target column`,
    );
  }
  const tAt = answers.header.indexOf(target);
  const truthById = new Map(
    answers.rows.map((r) => [r[idAt]!.trim(), r[tAt]!]),
  );
  if (truthById.size !== answers.rows.length) {
    throw new Error(`Cannot use the answers "${expected}": ids repeat`);
  }
  const fromRow = p.metric_field === undefined
    ? undefined
    : getPath(input.task.row, p.metric_field);
  const named = p.metric ??
    (typeof fromRow === "string" && fromRow !== "" ? fromRow : undefined);
  const known = named === undefined ? null : metricName(named);
  if (p.metric !== undefined && known === null) {
    throw new TypeError(
      `Cannot grade with metric "${p.metric}": known metrics are ${
        [...CLASSIFICATION, ...REGRESSION].join(", ")
      }`,
    );
  }
  const type = taskType([...truthById.values()], known);
  const metric = known ?? (type === "classification" ? "accuracy" : "rmse");
  const note = named !== undefined && known === null
    ? ` (the task's metric "${named}" is not supported; scored with ${metric})`
    : "";
  const context = `Task type: ${type}.`;
  const fail = (reason: string) =>
    fairGrade(input, reason, metric, expected, context);

  const text = await readSubmission(input.workspace, p.submission);
  if (!text.startsWith("\0")) return fail(text);
  const sub = toTable(text.slice(1), p.submission);
  if (typeof sub === "string") return fail(sub);
  const cols = quoted(sub.header);
  const sId = sub.header.indexOf(idCol);
  if (sId < 0) {
    return fail(`${p.submission} has no "${idCol}" column (columns: ${cols})`);
  }
  const others = sub.header.filter((h) => h !== idCol);
  const predCol = others.includes(target)
    ? target
    : others.length === 1
    ? others[0]!
    : undefined;
  if (predCol === undefined) {
    return fail(
      `${p.submission} has no "${target}" prediction column (columns: ${cols})`,
    );
  }
  const sPred = sub.header.indexOf(predCol);
  const rowOf = new Map<string, number>();
  for (const [i, r] of sub.rows.entries()) {
    const id = r[sId]!.trim();
    const seen = rowOf.get(id);
    if (seen !== undefined) {
      return fail(
        `${p.submission} repeats id "${id}" (data rows ${seen + 1} and ${
          i + 1
        })`,
      );
    }
    if (!truthById.has(id)) {
      return fail(
        `${p.submission} has id "${id}", which is not in the answers`,
      );
    }
    rowOf.set(id, i);
  }
  if (sub.rows.length !== truthById.size) {
    const missing = [...truthById.keys()].filter((id) => !rowOf.has(id));
    return fail(
      `${p.submission} has ${sub.rows.length} rows, expected ${truthById.size} (missing ids: ${
        quoted(missing.slice(0, 5))
      }${missing.length > 5 ? ", …" : ""})`,
    );
  }
  const ids = [...truthById.keys()];
  const preds = ids.map((id) => sub.rows[rowOf.get(id)!]![sPred]!);
  const truth = ids.map((id) => truthById.get(id)!);
  const scored = (type === "classification" ? classify : regress)(
    truth,
    preds,
    ids,
    metric,
  );
  if (typeof scored === "string") return fail(scored);
  const metrics: Record<string, number> = {
    valid_submission: 1,
    ...scored.metrics,
  };
  const value = scored.metrics[metric];
  if (value !== undefined) metrics.score = value;
  const others2 = Object.entries(scored.metrics).filter(([k]) => k !== metric)
    .map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const better = HIGHER_IS_BETTER.has(metric)
    ? "higher is better"
    : "lower is better";
  return {
    valid: true,
    correct: null,
    metrics,
    fair: false,
    answer: p.submission,
    expected,
    summary:
      `${scored.context} Metric${note}: ${metric} = ${
        value === undefined ? "n/a" : fmt(value)
      } (${better}). ` +
      `${ids.length} predictions from column "${predCol}" joined to the answers on "${idCol}". Other metrics: ${others2}.`,
  };
}
