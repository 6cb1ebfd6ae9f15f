// The report's plots as Vega-Lite specs (https://vega.github.io/vega-lite/), drawn to inline SVG when
// the page is assembled (plot_render.ts). Each builder returns placeholder markup for `raw()`.
import { color, fmt, framed, sample } from "./_plot_theme.ts";
import { plotPlaceholder } from "./plot_render.ts";

export { PALETTE } from "./_plot_theme.ts";

/**
 * CSS for the plots: inline it once in the page's `<style>`, beside them.
 *
 * @example
 * ```ts
 * import { PLOT_CSS } from "./plots.ts";
 * if (!PLOT_CSS.includes("svg.marks")) throw new Error("no plot rules");
 * ```
 */
export const PLOT_CSS = "svg.marks{max-width:100%;height:auto}";

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

/** A nominal colour scale over named series, in their order, with explicit colours. */
function seriesScale<T>(names: readonly string[], range: readonly T[]) {
  return { domain: [...names], range: [...range] };
}

/**
 * A grouped bar chart, each bar labelled with its value.
 *
 * @example
 * ```ts
 * import { barChart } from "./plots.ts";
 * const markup = barChart({ title: "Success", categories: ["a", "b"], series: [{ name: "rate", values: [0.5, 1] }], yLabel: "rate" });
 * if (!markup.startsWith("<mappa-plot")) throw new Error("not a plot");
 * ```
 */
export function barChart(o: BarChartOptions): string {
  const values = o.series.flatMap((s) =>
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
  const spec = framed(o.title, {
    data: { values },
    encoding: {
      x: {
        field: "category",
        type: "nominal",
        sort: [...o.categories],
        scale: { domain: [...o.categories] },
        title: o.xLabel ?? null,
        axis: { labelAngle: 0 },
      },
      xOffset: { field: "series", type: "nominal", sort: names },
      y: {
        field: "value",
        type: "quantitative",
        title: o.yLabel,
        ...(o.domain ? { scale: { domain: [...o.domain] } } : {}),
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: seriesScale(names, names.map((_, i) => color(i))),
        legend: names.length > 1 ? {} : null,
      },
    },
    layer: [
      { mark: { type: "bar" } },
      {
        mark: { type: "text", dy: -6, fontSize: 11, color: "#444" },
        encoding: { text: { field: "label" } },
      },
    ],
  });
  return plotPlaceholder(spec);
}

/**
 * A scatter plot, one colour per series, with the y = x diagonal on request.
 *
 * @example
 * ```ts
 * import { scatter } from "./plots.ts";
 * const markup = scatter({ title: "Length", series: [{ name: "solver", points: [[10, 2], [200, 8]] }], xLabel: "chars", yLabel: "score" });
 * if (!markup.startsWith("<mappa-plot")) throw new Error("not a plot");
 * ```
 */
export function scatter(o: ScatterOptions): string {
  const values = o.series.flatMap((s) =>
    sample(s.points).map(([x, y]) => ({ series: s.name, x, y }))
  );
  const names = o.series.map((s) => s.name);
  const xs = values.map((v) => v.x), ys = values.map((v) => v.y);
  const [xlo, xhi] = o.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  const [ylo, yhi] = o.yDomain ?? [Math.min(...ys), Math.max(...ys)];
  const lo = Math.max(xlo, ylo), hi = Math.min(xhi, yhi);
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: o.xLabel,
    scale: o.xDomain ? { domain: [...o.xDomain] } : { zero: false },
  };
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: o.yLabel,
    scale: o.yDomain ? { domain: [...o.yDomain] } : { zero: false },
  };
  const spec = framed(o.title, {
    layer: [
      ...(o.diagonal && values.length > 0 && lo < hi
        ? [{
          data: { values: [{ x: lo, y: lo, x2: hi, y2: hi }] },
          mark: { type: "rule" as const, color: "#999", strokeDash: [4, 3] },
          encoding: { x, y, x2: { field: "x2" }, y2: { field: "y2" } },
        }]
        : []),
      {
        data: { values },
        mark: { type: "point" as const, filled: true, opacity: 0.6 },
        encoding: {
          x,
          y,
          color: {
            field: "series",
            type: "nominal" as const,
            title: null,
            scale: seriesScale(names, names.map((_, i) => color(i))),
          },
        },
      },
    ],
  });
  return plotPlaceholder(spec);
}

function defined(y: number | null): y is number {
  return y !== null && Number.isFinite(y);
}

/**
 * A line chart over steps: one line per series, a null y leaves a gap, every point is marked (its value
 * in the point's accessible label), and `dashed` series (a compared run) show dashed in the legend too.
 *
 * @example
 * ```ts
 * import { lineChart } from "./plots.ts";
 * const markup = lineChart({
 *   title: "Mean reward",
 *   series: [{ name: "solver", points: [[1, 0.1], [2, 0.3], [3, null], [4, 0.4]] }],
 *   yLabel: "reward",
 * });
 * if (!markup.startsWith("<mappa-plot")) throw new Error("not a plot");
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  const xLabel = o.xLabel ?? "step";
  // A null y is kept as a row: Vega-Lite breaks the line there (its "break paths" invalid mode).
  const values = o.series.flatMap((s) =>
    s.points.map(([x, y]) => ({
      series: s.name,
      x,
      y: defined(y) ? y : null,
      desc: `${s.name}, ${xLabel} ${fmt(x)}: ${defined(y) ? fmt(y) : "–"}`,
    }))
  );
  const points = o.series.flatMap((s) =>
    sample(s.points.filter((p) => defined(p[1]))).map(([x, y]) => ({
      series: s.name,
      x,
      y,
      desc: `${s.name}, ${xLabel} ${fmt(x)}: ${fmt(y!)}`,
    }))
  );
  const names = o.series.map((s) => s.name);
  const colors = o.series.map((s, i) => color(s.color ?? i));
  const integral = values.every((v) => Number.isInteger(v.x));
  const shared = {
    x: {
      field: "x",
      type: "quantitative" as const,
      title: xLabel,
      scale: { zero: false, nice: false },
      axis: integral ? { tickMinStep: 1, format: "d" } : {},
    },
    y: {
      field: "y",
      type: "quantitative" as const,
      title: o.yLabel,
      scale: o.yDomain ? { domain: [...o.yDomain] } : { zero: false },
    },
  };
  const seriesField = {
    field: "series",
    type: "nominal" as const,
    title: null,
  };
  const stroke = { ...seriesField, scale: seriesScale(names, colors) };
  const dash = {
    ...seriesField,
    scale: seriesScale(names, o.series.map((s) => s.dashed ? [6, 4] : [1, 0])),
  };
  const fill = {
    ...seriesField,
    scale: seriesScale(
      names,
      o.series.map((s, i) => s.dashed ? "#fff" : colors[i]!),
    ),
  };
  const spec = framed(o.title, {
    encoding: shared,
    layer: [
      {
        data: { values },
        mark: {
          type: "line" as const,
          strokeWidth: 2,
          invalid: "break-paths-show-domains" as const,
        },
        encoding: { stroke, strokeDash: dash },
      },
      {
        data: { values: points },
        mark: {
          type: "point" as const,
          filled: true,
          size: 36,
          opacity: 1,
          strokeWidth: 1.5,
        },
        encoding: {
          stroke,
          fill,
          strokeDash: dash,
          description: { field: "desc" },
        },
      },
      ...(points.length === 0
        ? [{
          data: { values: [{}] },
          mark: {
            type: "text" as const,
            text: "no data",
            fontSize: 12,
            color: "#333",
          },
          encoding: { x: { value: 200 }, y: { value: 120 } },
        }]
        : []),
    ],
  });
  return plotPlaceholder(spec);
}
