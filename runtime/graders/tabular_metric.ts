import { dirname, isAbsolute, join } from "node:path";
import { Liquid } from "liquidjs";
import { assertReadable, getPath } from "../load_tasks.ts";
import type { Grade, GradeInput, Grader } from "./grade.ts";
import { toTable } from "./_csv.ts";
import { readWorkspaceFile } from "../workspace/read_workspace_file.ts";
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from "../../dsl/mod.ts";
import {
  classify,
  constantFor,
  fmt,
  HIGHER_IS_BETTER,
  metricName,
  quoted,
  regress,
  relativeGap,
  taskType,
} from "./_tabular_score.ts";

/** Largest submission file read, in bytes. */
const MAX_SUBMISSION_BYTES = 64 * 1024 * 1024;
/** File names looked for when the answers path is a directory (DSBench's `answer_dir`). */
const ANSWER_FILES = ["test_answer.csv", "answers.csv"];
const liquid = new Liquid({ strictVariables: true });
/** The row field holding a task's constant baseline prediction (tools/dsbench_build.py writes it). */
const BASELINE_FIELD = "baseline_prediction";

async function answersFile(
  input: GradeInput,
  template: string,
): Promise<string> {
  const fromRow = template.includes("{{")
    ? undefined
    : getPath(input.task.row, template);
  let path: string;
  if (typeof fromRow === "string" && fromRow !== "") {
    // A row's path is relative to its dataset file, never to the working directory.
    path = isAbsolute(fromRow)
      ? fromRow
      : join(input.task.dir ?? dirname(input.graph.spec_file), fromRow);
  } else {
    const t = input.task;
    const rendered = await liquid.parseAndRender(template, {
      task: { id: t.id, category: t.category, ...t.inputs },
    });
    path = isAbsolute(rendered)
      ? rendered
      : join(dirname(input.graph.spec_file), rendered);
  }
  // A row or template may not point outside the spec's folder (DESIGN.md decision 12); a graph built
  // by hand without a dataset is not confined, as load_tasks says of one without read_roots.
  if (input.graph.dataset !== undefined) {
    assertReadable(input.graph.dataset, path, "answers file");
  }
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) {
    throw new Error(`Cannot read answers file "${path}": no such file`);
  }
  if (!info.isDirectory) return path;
  for (const name of ANSWER_FILES) {
    if (await Deno.stat(join(path, name)).then((s) => s.isFile, () => false)) {
      // The file in the folder may itself be a link out.
      if (input.graph.dataset !== undefined) {
        assertReadable(input.graph.dataset, join(path, name), "answers file");
      }
      return join(path, name);
    }
  }
  throw new Error(
    `Cannot find the answers in "${path}": no ${ANSWER_FILES.join(" or ")}`,
  );
}

/** The submission's text, or why it cannot be read (lstat first: no symlinks, no huge files). */
async function readSubmission(
  dir: string,
  rel: string,
): Promise<{ text: string } | { reason: string }> {
  const path = join(dir, rel);
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null) return { reason: `no ${rel} in the workspace` };
  if (info.isSymlink) {
    return { reason: `${rel} is a symbolic link, not a file` };
  }
  if (!info.isFile) return { reason: `${rel} is not a regular file` };
  if (info.size > MAX_SUBMISSION_BYTES) {
    return {
      reason:
        `${rel} has ${info.size} bytes, over the limit of ${MAX_SUBMISSION_BYTES}`,
    };
  }
  // The lstat above only words the reason: the read itself follows no link, opens no FIFO, stops at the cap.
  const read = await readWorkspaceFile(dir, rel, {
    maxBytes: MAX_SUBMISSION_BYTES,
  });
  if (!read.ok) return { reason: `${rel} cannot be read: ${read.reason}` };
  try {
    return {
      text: new TextDecoder("utf-8", { fatal: true }).decode(read.bytes),
    };
  } catch {
    return { reason: `${rel} is not UTF-8 text` };
  }
}

function fairGrade(
  input: GradeInput,
  reason: string,
  metric: string,
  expected: string,
  context: string,
  baseline: Baseline,
): Grade {
  // The constant baseline's own metrics: an invalid submission never scores above a valid constant one.
  const metrics: Record<string, number> = {
    ...(input.graph.outcome?.fair ?? {}),
    ...baseline.metrics,
    valid_submission: 0,
    score: 0,
  };
  const listed = Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`)
    .join(", ");
  return {
    valid: false,
    correct: null,
    metrics,
    fair: true,
    answer: null,
    expected,
    reason,
    summary:
      `${context} Metric: ${metric}. Invalid submission: ${reason}. The episode counts as a failure, scored with the fair values of the constant baseline ${baseline.what} (${listed}).`,
  };
}

interface Baseline {
  readonly prediction: string;
  readonly what: string;
  readonly metrics: Readonly<Record<string, number>>;
}

/** The task's constant baseline: the row's `baseline_prediction` (computed at build time) or, without one, the answers' majority label / mean. */
function baselineOf(
  input: GradeInput,
  truth: readonly string[],
  ids: readonly string[],
  type: "classification" | "regression",
  metric: string,
  expected: string,
): Baseline {
  const declared = getPath(input.task.row, BASELINE_FIELD);
  let prediction: string, what: string;
  if (typeof declared === "string" || typeof declared === "number") {
    prediction = String(declared);
    what = `"${prediction}" (the task's ${BASELINE_FIELD})`;
  } else {
    prediction = constantFor(truth, type, metric);
    what = `"${prediction}" (${
      type === "regression" ? "the answers' mean" : "the answers' majority"
    }; the task declares no baseline)`;
  }
  const scored = (type === "classification" ? classify : regress)(
    truth,
    truth.map(() => prediction),
    ids,
    metric,
  );
  if (typeof scored === "string") {
    throw new Error(
      `Cannot score the baseline "${prediction}" of "${expected}": ${scored}`,
    );
  }
  return { prediction, what, metrics: scored.metrics };
}

/**
 * Grades a Kaggle-style submission: reads the workspace's `params.submission` CSV (no symlinks, at most
 * 64 MiB) and the task's answers CSV, validates columns, ids and values, joins on the id column and
 * computes every metric that applies to the task type. `score` is DSBench's relative gap to the task's
 * constant baseline, `max(0, (s - baseline) / (best - baseline))` with best the metric's perfect value
 * (direction-aware, at most 1), so means over tasks and metrics compare. The baseline is the row's
 * `baseline_prediction` (written at build time) or else the answers' majority label / mean. An invalid
 * submission gets the baseline's own metrics as fair values (spec `fair` values fill any gap),
 * `score` 0, `valid_submission` 0 and a reason. NaN and infinities are never class labels; on a binary
 * task with string labels a numeric prediction is a score of the class that sorts last (0/1 codes
 * included), thresholded at 0.5. A row's relative answers path is relative to its dataset file.
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
        [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS].join(", ")
      }`,
    );
  }
  const type = taskType([...truthById.values()], known);
  const metric = known ?? (type === "classification" ? "accuracy" : "rmse");
  const note = named !== undefined && known === null
    ? ` (the task's metric "${named}" is not supported; scored with ${metric})`
    : "";
  const context = `Task type: ${type}.`;
  const ids = [...truthById.keys()];
  const truth = ids.map((id) => truthById.get(id)!);
  const baseline = baselineOf(input, truth, ids, type, metric, expected);
  const fail = (reason: string) =>
    fairGrade(input, reason, metric, expected, context, baseline);

  const read = await readSubmission(input.workspace, p.submission);
  if ("reason" in read) return fail(read.reason);
  const sub = toTable(read.text, p.submission);
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
  const preds = ids.map((id) => sub.rows[rowOf.get(id)!]![sPred]!);
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
  const base = baseline.metrics[metric];
  const gap = value === undefined || base === undefined
    ? 0
    : relativeGap(metric, value, base);
  metrics.score = gap;
  const rest = Object.entries(scored.metrics).filter(([k]) => k !== metric)
    .map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const better =
    (HIGHER_IS_BETTER.has(metric) ? "higher is better" : "lower is better") +
    `; the constant baseline ${baseline.what} scores ${
      base === undefined ? "n/a" : fmt(base)
    }; score ${
      fmt(gap)
    } is the relative gap to it, 0 at or below the baseline, 1 perfect`;
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
      `${ids.length} predictions from column "${predCol}" joined to the answers on "${idCol}". Other metrics: ${rest}.`,
  };
}
