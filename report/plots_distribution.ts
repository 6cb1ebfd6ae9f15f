// Distribution plots of the run report (score histograms, box plots by role and outcome), drawn by
// Observable Plot into inline SVG.
import * as Plot from "@observablehq/plot";
import { figure, fmt, jitter, sample, seriesColor } from "./_plot_theme.ts";

/** Values under one name: a histogram's stacked series, a box plot's box. */
export interface DistributionSeries {
  readonly name: string;
  readonly values: readonly number[];
}

/** What both distribution plots take: a title, the series, and a fixed value range if any. */
export interface DistributionOptions {
  readonly title: string;
  readonly series: readonly DistributionSeries[];
  /** Fixed range of the values, e.g. the rubric's scale. */
  readonly domain?: readonly [number, number];
}

/** A histogram of one or more series, stacked. */
export interface HistogramOptions extends DistributionOptions {
  readonly xLabel: string;
  readonly binWidth?: number;
}

/** A box plot with the points strewn over it, one box per series. */
export interface BoxPlotOptions extends DistributionOptions {
  readonly yLabel: string;
}

/** Bin edges from `start` by `width` until `end` is covered. */
function edges(start: number, end: number, width: number): number[] {
  const n = Math.max(1, Math.ceil((end - start) / width - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => start + i * width);
}

interface Value {
  readonly series: string;
  readonly value: number;
}

/**
 * A stacked histogram; integer data on a small range gets one bin per integer, centred on it.
 *
 * @example
 * ```ts
 * import { histogram } from "./plots_distribution.ts";
 * const svg = histogram({ title: "Scores", series: [{ name: "all", values: [1, 2, 2, 3] }], xLabel: "score" });
 * if (!svg.includes("<rect")) throw new Error("no bars");
 * ```
 */
export function histogram(o: HistogramOptions): string {
  const all = o.series.flatMap((s) => s.values);
  const lo = o.domain?.[0] ?? (all.length ? Math.min(...all) : 0);
  const hi = o.domain?.[1] ?? (all.length ? Math.max(...all) : 1);
  const integral = all.every(Number.isInteger) && hi - lo <= 40;
  const thresholds = o.binWidth !== undefined
    ? edges(lo, hi, o.binWidth)
    : integral
    ? edges(lo - 0.5, hi + 0.5, 1)
    : "sturges";
  const names = o.series.map((s) => s.name);
  const values: Value[] = o.series.flatMap((s) =>
    s.values.map((value) => ({ series: s.name, value }))
  );
  return figure({
    title: o.title,
    x: {
      label: o.xLabel,
      ...(Array.isArray(thresholds)
        ? { domain: [thresholds[0]!, thresholds.at(-1)!] }
        : {}),
      ...(integral && o.binWidth === undefined
        ? { ticks: edges(lo, hi, Math.max(1, Math.ceil((hi - lo) / 10))) }
        : {}),
    },
    y: { label: "count", grid: true },
    color: seriesColor(names),
    marks: [
      Plot.rectY(
        values,
        Plot.binX<Plot.RectYOptions>(
          {
            y: "count",
            title: (bin: Value[]) =>
              `${bin[0]?.series ?? ""}: ${bin.length} in [${
                fmt(Math.min(...bin.map((b) => b.value)))
              }, ${fmt(Math.max(...bin.map((b) => b.value)))}]`,
          },
          {
            x: "value",
            fill: "series",
            thresholds,
            insetLeft: 1,
            insetRight: 1,
          },
        ),
      ),
      Plot.ruleY([0], { stroke: "#666" }),
    ],
  });
}

/**
 * A box plot (quartiles, median, whiskers at 1.5 IQR, mean diamond) with the points strewn over it.
 *
 * @example
 * ```ts
 * import { boxPlot } from "./plots_distribution.ts";
 * const svg = boxPlot({ title: "By role", series: [{ name: "solver", values: [3, 5, 7] }], yLabel: "score" });
 * if (!svg.includes("<circle")) throw new Error("no points");
 * ```
 */
export function boxPlot(o: BoxPlotOptions): string {
  // One facet per series, its axis label carrying n; inside it x runs over [-1, 1] for the jitter.
  const keys = o.series.map((g) => `${g.name}\nn = ${g.values.length}`);
  const values = o.series.flatMap((g, gi) =>
    g.values.map((value) => ({ group: keys[gi]!, value }))
  );
  const dots = o.series.flatMap((g, gi) =>
    sample(g.values).map((value, i) => ({
      group: keys[gi]!,
      value,
      x: jitter(i) * 1.2,
    }))
  );
  const means = o.series.flatMap((g, gi) =>
    g.values.length === 0 ? [] : [{
      group: keys[gi]!,
      mean: g.values.reduce((a, b) => a + b, 0) / g.values.length,
      label: g.name,
      n: g.values.length,
    }]
  );
  return figure({
    title: o.title,
    subtitle: "box: quartiles · bar: median · ◆: mean · dots: actions",
    fx: { domain: keys, label: null, padding: 0.1 },
    x: { domain: [-1, 1], axis: null },
    y: {
      label: o.yLabel,
      grid: true,
      ...(o.domain ? { domain: [...o.domain] } : {}),
    },
    color: { ...seriesColor(keys), legend: false },
    marks: [
      Plot.boxY(values, {
        fx: "group",
        y: "value",
        insetLeft: 34,
        insetRight: 34,
        fill: "group",
        fillOpacity: 0.2,
        stroke: "#555",
        r: 0,
      }),
      Plot.dot(dots, {
        fx: "group",
        x: "x",
        y: "value",
        fill: "group",
        fillOpacity: 0.45,
        r: 2.4,
      }),
      Plot.dot(means, {
        fx: "group",
        frameAnchor: "middle",
        y: "mean",
        symbol: "diamond2",
        fill: "#222",
        r: 5,
        title: (m: { label: string; mean: number; n: number }) =>
          `${m.label}: mean ${fmt(m.mean)}, n ${m.n}`,
      }),
    ],
  });
}
