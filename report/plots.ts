// The public face of the inline SVG plots, for other layers' reports (training curves): the `_svg_plots`
// files stay private (STYLE.md §2), and these delegates carry the documented, importable names.

import {
  barChart as drawBarChart,
  type BarChartOptions,
  boxPlot as drawBoxPlot,
  type BoxPlotOptions,
  histogram as drawHistogram,
  type HistogramOptions,
  lineChart as drawLineChart,
  type LineChartOptions,
  PLOT_CSS as FRAME_CSS,
  scatter as drawScatter,
  type ScatterOptions,
} from "./_svg_plots.ts";

export type {
  BarChartOptions,
  BarSeries,
  BoxPlotOptions,
  HistogramOptions,
  LineChartOptions,
  LineSeries,
  ScatterOptions,
} from "./_svg_plots.ts";

/**
 * CSS for the classes the plots use: inline it once in the page's `<style>`, beside the plots.
 *
 * @example
 * ```ts
 * import { PLOT_CSS } from "./plots.ts";
 * if (!PLOT_CSS.includes("svg.plot")) throw new Error("no plot rules");
 * ```
 */
export const PLOT_CSS: string = FRAME_CSS;

/**
 * A line chart over steps as an SVG string: one line per series, a null y leaves a gap, every point is
 * marked with its value as a tooltip, and `dashed` series (a compared run) show dashed in the legend too.
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
 * assert.equal(svg.match(/<polyline/g)?.length, 1);
 * assert.equal(svg.match(/<circle/g)?.length, 3);
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  return drawLineChart(options);
}

/**
 * A grouped bar chart as an SVG string: one group per category, one bar per series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { barChart } from "./plots.ts";
 * const svg = barChart({ title: "Success", categories: ["a", "b"], series: [{ name: "rate", values: [0.5, 1] }], yLabel: "rate" });
 * assert.equal(svg.match(/<rect x=/g)?.length, 2);
 * ```
 */
export function barChart(options: BarChartOptions): string {
  return drawBarChart(options);
}

/**
 * A stacked histogram as an SVG string; integer data on a small range gets one bin per integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { histogram } from "./plots.ts";
 * const svg = histogram({ title: "Scores", series: [{ name: "all", values: [1, 2, 2, 3] }], xLabel: "score" });
 * assert.match(svg, /^<svg/);
 * ```
 */
export function histogram(options: HistogramOptions): string {
  return drawHistogram(options);
}

/**
 * A box plot (quartiles, median, whiskers at 1.5 IQR, mean diamond) with jittered points, as SVG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxPlot } from "./plots.ts";
 * const svg = boxPlot({ title: "By role", groups: [{ label: "solver", values: [3, 5, 7] }], yLabel: "score" });
 * assert.equal(svg.match(/<circle/g)?.length, 3);
 * ```
 */
export function boxPlot(options: BoxPlotOptions): string {
  return drawBoxPlot(options);
}

/**
 * A scatter plot as an SVG string, one colour per series; `diagonal` draws y = x for agreement plots.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scatter } from "./plots.ts";
 * const svg = scatter({ title: "Length", series: [{ name: "solver", points: [[10, 2], [200, 8]] }], xLabel: "chars", yLabel: "score" });
 * assert.equal(svg.match(/<circle/g)?.length, 2);
 * ```
 */
export function scatter(options: ScatterOptions): string {
  return drawScatter(options);
}
