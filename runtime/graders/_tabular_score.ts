import * as m from "./tabular_metrics.ts";
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from "../../dsl/mod.ts";

/** Task typing and scoring of joined answers and predictions for the tabular grader (private). */

export const HIGHER_IS_BETTER = new Set([
  ...CLASSIFICATION_METRICS.filter((x) => x !== "log_loss"),
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
for (const name of [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS]) {
  ALIASES[name.replaceAll("_", "")] = name;
}
/** Maps a metric name as a spec or dataset writes it ("ROC-AUC", "Root Mean Squared Error") to ours, else null. */
export function metricName(raw: string): string | null {
  return ALIASES[raw.toLowerCase().replace(/[^a-z0-9]/g, "")] ?? null;
}

export function num(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
}

/** A label's canonical form: trimmed, numbers written one way ("1.0" and "1" are the same class). */
export function label(s: string): string {
  const n = num(s);
  return Number.isNaN(n) ? s.trim() : String(n);
}

export function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

export function quoted(xs: readonly string[]): string {
  return xs.map((x) => `"${x}"`).join(", ");
}

/**
 * The task type. A metric named by the spec or row decides it; without one, the answers are a
 * classification target when any value is non-numeric, when they hold at most 2 distinct values, or when
 * they are integers with at most 10 distinct values that each occur twice on average (rows >= 2 x
 * distinct values, so five unique prices are not five classes); a regression target otherwise.
 * (DSBench's rule without its flaw: string targets are classification.)
 */
export function taskType(
  values: readonly string[],
  metric: string | null,
): "classification" | "regression" {
  const nums = values.map(num);
  if (metric !== null && CLASSIFICATION_METRICS.includes(metric)) {
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
  return distinct <= 2 ||
      (distinct <= 10 && nums.length >= 2 * distinct &&
        nums.every(Number.isInteger))
    ? "classification"
    : "regression";
}

/** A prediction or answer that is not a number nor a usable label: NaN and infinities in any spelling. */
const NOT_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** The best value of a metric: 1 for those where higher is better (all bounded by 1), else 0. */
function bestOf(metric: string): number {
  return HIGHER_IS_BETTER.has(metric) ? 1 : 0;
}

/**
 * DSBench's relative gap, direction-aware: `max(0, (s - baseline) / (best - baseline))`, at most 1,
 * with best the metric's perfect value; when the baseline is already perfect, 1 for a perfect score, else 0.
 */
export function relativeGap(
  metric: string,
  score: number,
  baseline: number,
): number {
  const best = bestOf(metric);
  const room = HIGHER_IS_BETTER.has(metric) ? best - baseline : baseline - best;
  const gained = HIGHER_IS_BETTER.has(metric)
    ? score - baseline
    : baseline - score;
  if (!(room > 0)) return score === best ? 1 : 0;
  return Math.min(1, Math.max(0, gained / room));
}

/** The constant prediction of a task without a declared baseline: the answers' majority label (ties: first in order), positive rate for roc_auc/log_loss, mean otherwise. */
export function constantFor(
  truth: readonly string[],
  type: "classification" | "regression",
  metric: string,
): string {
  if (type === "regression") {
    const xs = truth.map(num);
    return String(xs.reduce((a, b) => a + b, 0) / xs.length);
  }
  const counts = new Map<string, number>();
  for (const t of truth.map(label)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const classes = [...counts.keys()].sort(byClass);
  if (metric === "roc_auc" || metric === "log_loss") {
    return String((counts.get(classes[1]!) ?? 0) / truth.length);
  }
  let best = classes[0]!;
  for (const c of classes) if (counts.get(c)! > counts.get(best)!) best = c;
  return best;
}

function byClass(a: string, b: string): number {
  return Number.isNaN(num(a) - num(b))
    ? (a < b ? -1 : a > b ? 1 : 0)
    : num(a) - num(b);
}

export type Scored =
  | { metrics: Record<string, number>; context: string }
  | string;

export function classify(
  truth: readonly string[],
  preds: readonly string[],
  ids: readonly string[],
  metric: string,
): Scored {
  const badTruth = truth.find((t) => NOT_FINITE.test(t.trim()));
  if (badTruth !== undefined) {
    throw new TypeError(
      `Cannot grade against the answer "${badTruth}": NaN and infinities are not class labels`,
    );
  }
  const yTrue = truth.map(label);
  const classes = [...new Set(yTrue)].sort(byClass);
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
    if (NOT_FINITE.test(p.trim())) {
      return `prediction for id "${
        ids[i]
      }" is "${p}", not a class label or a finite score`;
    }
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

export function regress(
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
