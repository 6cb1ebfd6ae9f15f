// The report's plots, drawn by Observable Plot (https://observablehq.com/plot/) into inline SVG: no
// scripts, no fonts, nothing fetched. Run-controlled text (roles, categories) reaches the markup only
// through the DOM, which escapes it. Each builder returns a `<figure>` for `raw()`.
import * as Plot from "@observablehq/plot";
import { color, figure, fmt, sample, seriesColor } from "./_plot_theme.ts";

export { PALETTE } from "./_plot_theme.ts";

/**
 * CSS for the plots: inline it once in the page's `<style>`, beside them.
 *
 * @example
 * ```ts
 * import { PLOT_CSS } from "./plots.ts";
 * if (!PLOT_CSS.includes(".mp-figure")) throw new Error("no plot rules");
 * ```
 */
export const PLOT_CSS = `.mp-figure{margin:0;font-family:system-ui,sans-serif}
.mp-figure h2{font-size:14px;font-weight:600;border:0;margin:2px 0 4px;padding:0}
.mp-figure h3{font-size:12px;font-weight:400;color:#444;margin:0 0 4px}
.mp-swatches{font-size:12px}
.plots figure.mp-figure{border:0;padding:0}`;

/** One named series of a bar chart. */
export interface BarSeries {
  readonly name: string;
  /** One value per category; null draws no bar. */
  readonly values: readonly (number | null)[];
}

/** A grouped bar chart: one group per category, one bar per series. */
export interface BarChartOptions {
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly yLabel: string;
  readonly xLabel?: string;
  /** Fixed y range; default from 0 (or the least value) to the greatest. */
  readonly domain?: readonly [number, number];
  /** Formats the value printed above each bar. */
  readonly format?: (v: number) => string;
}

/** A scatter plot of one or more series. */
export interface ScatterOptions {
  readonly title: string;
  readonly series: readonly {
    readonly name: string;
    readonly points: readonly (readonly [number, number])[];
  }[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  /** Draws the y = x diagonal (agreement plots). */
  readonly diagonal?: boolean;
}

/** One named series of a line chart. */
export interface LineSeries {
  readonly name: string;
  /** (x, y) points in x order; a null (or non-finite) y leaves a gap in the line. */
  readonly points: readonly (readonly [number, number | null])[];
  /** Palette index; default the series' position. Overlaid runs reuse their counterpart's colour. */
  readonly color?: number;
  /** Draws the line dashed, e.g. for the run a chart compares against. */
  readonly dashed?: boolean;
}

/** A line chart over steps: one line per series, every point marked. */
export interface LineChartOptions {
  readonly title: string;
  readonly series: readonly LineSeries[];
  readonly yLabel: string;
  /** @default "step" */
  readonly xLabel?: string;
  /** Fixed y range, e.g. [0, 1] for rates; default the data's extent. */
  readonly yDomain?: readonly [number, number];
}

interface Bar {
  readonly category: string;
  readonly series: string;
  readonly value: number;
  readonly label: string;
}

/**
 * A grouped bar chart, each bar labelled with its value and titled (hover) with series and category.
 *
 * @example
 * ```ts
 * import { barChart } from "./plots.ts";
 * const svg = barChart({ title: "Success", categories: ["a", "b"], series: [{ name: "rate", values: [0.5, 1] }], yLabel: "rate" });
 * if (!svg.includes("<rect")) throw new Error("no bars");
 * ```
 */
export function barChart(o: BarChartOptions): string {
  const bars: Bar[] = o.series.flatMap((s) =>
    s.values.flatMap((v, ci) =>
      v === null || !Number.isFinite(v) ? [] : [{
        category: o.categories[ci] ?? "",
        series: s.name,
        value: v,
        label: o.format ? o.format(v) : fmt(v),
      }]
    )
  );
  const names = o.series.map((s) => s.name);
  const at = { fx: "category", x: "series", y: "value" } as const;
  return figure({
    title: o.title,
    fx: { domain: [...o.categories], label: o.xLabel ?? null, padding: 0.15 },
    x: { domain: names, axis: null, padding: 0.05 },
    y: {
      label: o.yLabel,
      grid: true,
      ...(o.domain ? { domain: [...o.domain] } : {}),
    },
    color: seriesColor(names),
    marks: [
      Plot.barY(bars, {
        ...at,
        fill: "series",
        title: (b: Bar) => `${b.series} ${b.category}: ${b.label}`,
      }),
      Plot.text(bars, { ...at, text: "label", dy: -7, fill: "#444" }),
      Plot.ruleY([0], { stroke: "#666" }),
    ],
  });
}

/**
 * A scatter plot, one colour per series, with the y = x diagonal on request.
 *
 * @example
 * ```ts
 * import { scatter } from "./plots.ts";
 * const svg = scatter({ title: "Length", series: [{ name: "solver", points: [[10, 2], [200, 8]] }], xLabel: "chars", yLabel: "score" });
 * if (!svg.includes("<circle")) throw new Error("no points");
 * ```
 */
export function scatter(o: ScatterOptions): string {
  const points = o.series.flatMap((s) =>
    sample(s.points).map(([x, y]) => ({ series: s.name, x, y }))
  );
  const names = o.series.map((s) => s.name);
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const [xlo, xhi] = o.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  const [ylo, yhi] = o.yDomain ?? [Math.min(...ys), Math.max(...ys)];
  const lo = Math.max(xlo, ylo), hi = Math.min(xhi, yhi);
  return figure({
    title: o.title,
    x: { label: o.xLabel, ...(o.xDomain ? { domain: [...o.xDomain] } : {}) },
    y: {
      label: o.yLabel,
      grid: true,
      ...(o.yDomain ? { domain: [...o.yDomain] } : {}),
    },
    color: { ...seriesColor(names), legend: "swatches" },
    marks: [
      o.diagonal && points.length > 0 && lo < hi
        ? Plot.link([{ lo, hi }], {
          x1: "lo",
          y1: "lo",
          x2: "hi",
          y2: "hi",
          stroke: "#999",
          strokeDasharray: "4 3",
        })
        : null,
      Plot.dot(points, {
        x: "x",
        y: "y",
        fill: "series",
        fillOpacity: 0.6,
        r: 3,
      }),
    ],
  });
}

/** About eight whole-number ticks over the steps: Plot's own put 0.5 between steps 0 and 1. */
function stepTicks(xs: readonly number[]): number[] {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const raw = (hi - lo) / 8;
  const mag = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  return out;
}

function defined(y: number | null): y is number {
  return y !== null && Number.isFinite(y);
}

/**
 * A line chart over steps: one line per series, a null y leaves a gap, every point is marked with its
 * value as a tooltip, and `dashed` series (a compared run) are drawn dashed with hollow points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineChart } from "./plots.ts";
 * const svg = lineChart({
 *   title: "Mean reward",
 *   series: [{ name: "solver", points: [[1, 0.1], [2, 0.3], [3, null], [4, 0.4]] }],
 *   yLabel: "reward",
 * });
 * assert.equal(svg.match(/<circle/g)?.length, 3);
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  const xLabel = o.xLabel ?? "step";
  const names = o.series.map((s) => s.name);
  const colors = o.series.map((s, i) => color(s.color ?? i));
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const defs = o.series.map((s) => s.points.filter((p) => defined(p[1])));
  const marks = o.series.flatMap((s, i) => {
    const rows = s.points.map(([x, y]) => ({ x, y: defined(y) ? y : NaN }));
    const dots = sample(defs[i]!).map(([x, y]) => ({ x, y: y! }));
    return [
      // A NaN y breaks the line (Plot's line leaves undefined points out as gaps).
      Plot.lineY(rows, {
        x: "x",
        y: "y",
        stroke: () => s.name,
        strokeWidth: 2,
        ...(s.dashed ? { strokeDasharray: "6 4" } : {}),
      }),
      Plot.dot(dots, {
        x: "x",
        y: "y",
        r: 3,
        stroke: () => s.name,
        strokeWidth: 1.5,
        fill: s.dashed ? "#fff" : () => s.name,
        title: (d: { x: number; y: number }) =>
          `${s.name}, ${xLabel} ${fmt(d.x)}: ${fmt(d.y)}`,
      }),
    ];
  });
  const empty = defs.every((d) => d.length === 0);
  return figure({
    title: o.title,
    x: {
      label: xLabel,
      ...(xs.length > 0 && xs.every(Number.isInteger)
        ? { tickFormat: "d", ticks: stepTicks(xs) }
        : {}),
    },
    y: {
      label: o.yLabel,
      grid: true,
      ...(o.yDomain ? { domain: [...o.yDomain] } : {}),
    },
    color: { ...seriesColor(names, colors), legend: "swatches" },
    marks: [
      ...marks,
      empty
        ? Plot.text(["no data"], { frameAnchor: "middle", fontSize: 12 })
        : null,
    ],
  });
}
