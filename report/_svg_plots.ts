// Inline SVG plots for the self-contained HTML report: no scripts, no fonts, no network. Every text
// that reaches the markup goes through `xml()`, since labels (roles, categories) are run-controlled.

import {
  Axis,
  categoryLabels,
  color,
  extent,
  fmt,
  frame,
  H,
  jitter,
  M,
  niceStep,
  sample,
  W,
  xAxisLine,
  xml,
  xTicks,
  yAxis,
} from "./_svg_plots_frame.ts";

export { PALETTE, PLOT_CSS } from "./_svg_plots_frame.ts";

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

/** A histogram of one or more series, stacked. */
export interface HistogramOptions {
  readonly title: string;
  readonly series: readonly {
    readonly name: string;
    readonly values: readonly number[];
  }[];
  readonly xLabel: string;
  /** Fixed x range, e.g. the rubric's scale. */
  readonly domain?: readonly [number, number];
  readonly binWidth?: number;
}

/** A box plot with the points strewn over it, one box per group. */
export interface BoxPlotOptions {
  readonly title: string;
  readonly groups: readonly {
    readonly label: string;
    readonly values: readonly number[];
  }[];
  readonly yLabel: string;
  readonly domain?: readonly [number, number];
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

/**
 * A grouped bar chart as an SVG string.
 *
 * @example
 * ```ts
 * import { barChart } from "./_svg_plots.ts";
 * const svg = barChart({ title: "Success", categories: ["a", "b"], series: [{ name: "rate", values: [0.5, 1] }], yLabel: "rate" });
 * if (!svg.startsWith("<svg")) throw new Error("not svg");
 * ```
 */
export function barChart(o: BarChartOptions): string {
  const all = o.series.flatMap((s) =>
    s.values.filter((v): v is number => v !== null)
  );
  const top = Math.max(0, ...all);
  const domain = o.domain ?? [Math.min(0, ...all), top > 0 ? top * 1.1 : 1];
  const y = new Axis(domain, [H - M.bottom, M.top]);
  const band = (W - M.right - M.left) / Math.max(1, o.categories.length);
  const bw = Math.min(70, band * 0.8 / Math.max(1, o.series.length));
  const pad = (band - bw * o.series.length) / 2;
  const base = y.at(Math.max(y.lo, Math.min(0, y.hi)));
  const bars = o.series.flatMap((s, si) =>
    s.values.map((v, ci) => {
      if (v === null || !Number.isFinite(v)) return "";
      const x = M.left + ci * band + pad + si * bw;
      const top = Math.min(base, y.at(v));
      const h = Math.abs(y.at(v) - base);
      const label = o.format ? o.format(v) : fmt(v);
      return `<rect x="${x}" y="${top}" width="${
        Math.max(1, bw - 2)
      }" height="${h}" fill="${color(si)}">` +
        `<title>${
          xml(`${s.name} ${o.categories[ci] ?? ""}: ${label}`)
        }</title></rect>` +
        (bw >= 18
          ? `<text x="${x + bw / 2 - 1}" y="${
            top - 3
          }" text-anchor="middle" class="vl">${xml(label)}</text>`
          : "");
    })
  ).join("");
  return frame(
    o.title,
    yAxis(y, o.yLabel) + bars + xAxisLine(o.xLabel ?? "") +
      categoryLabels(o.categories, (i) => M.left + (i + 0.5) * band),
    o.series.length > 1 ? o.series.map((s) => s.name) : [],
  );
}

/**
 * A stacked histogram as an SVG string; integer data on a small range gets one bin per integer.
 *
 * @example
 * ```ts
 * import { histogram } from "./_svg_plots.ts";
 * const svg = histogram({ title: "Scores", series: [{ name: "all", values: [1, 2, 2, 3] }], xLabel: "score" });
 * if (!svg.includes("<rect")) throw new Error("no bars");
 * ```
 */
export function histogram(o: HistogramOptions): string {
  const all = o.series.flatMap((s) => s.values);
  const [lo, hi] = o.domain ?? extent(all, false);
  const integral = all.every(Number.isInteger) && hi - lo <= 40;
  const width = o.binWidth ??
    (integral
      ? 1
      : niceStep(hi - lo, Math.ceil(Math.log2(Math.max(2, all.length)) + 1)));
  const start = integral ? lo - 0.5 : Math.floor(lo / width) * width;
  const nBins = Math.max(
    1,
    Math.ceil((hi - start) / width + (integral ? 0.5 : 1e-9)),
  );
  const counts = o.series.map((s) => {
    const c = new Array<number>(nBins).fill(0);
    for (const v of s.values) {
      c[Math.min(nBins - 1, Math.max(0, Math.floor((v - start) / width)))]!++;
    }
    return c;
  });
  const totals = Array.from(
    { length: nBins },
    (_, b) => counts.reduce((n, c) => n + c[b]!, 0),
  );
  const x = new Axis([start, start + nBins * width], [M.left, W - M.right]);
  const y = new Axis([0, Math.max(1, ...totals) * 1.1], [H - M.bottom, M.top]);
  const bars = Array.from({ length: nBins }, (_, b) => {
    let acc = 0;
    return counts.map((c, si) => {
      const n = c[b]!;
      if (n === 0) return "";
      const y0 = y.at(acc);
      acc += n;
      const x0 = x.at(start + b * width);
      return `<rect x="${x0 + 1}" y="${y.at(acc)}" width="${
        Math.max(1, x.at(start + (b + 1) * width) - x0 - 2)
      }" ` +
        `height="${y0 - y.at(acc)}" fill="${color(si)}"><title>${
          xml(
            `${o.series[si]!.name}: ${n} in [${fmt(start + b * width)}, ${
              fmt(start + (b + 1) * width)
            })`,
          )
        }</title></rect>`;
    }).join("");
  }).join("");
  return frame(
    o.title,
    yAxis(y, "count") + bars + xAxisLine(o.xLabel) + xTicks(x),
    o.series.length > 1 ? o.series.map((s) => s.name) : [],
  );
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return sorted[i]! +
    (i + 1 < sorted.length ? (sorted[i + 1]! - sorted[i]!) * f : 0);
}

/**
 * A box plot (quartiles, median, whiskers at 1.5 IQR, mean diamond) with jittered points, as SVG.
 *
 * @example
 * ```ts
 * import { boxPlot } from "./_svg_plots.ts";
 * const svg = boxPlot({ title: "By role", groups: [{ label: "solver", values: [3, 5, 7] }], yLabel: "score" });
 * if (!svg.includes("<circle")) throw new Error("no points");
 * ```
 */
export function boxPlot(o: BoxPlotOptions): string {
  const y = new Axis(o.domain ?? extent(o.groups.flatMap((g) => g.values)), [
    H - M.bottom,
    M.top,
  ]);
  const band = (W - M.right - M.left) / Math.max(1, o.groups.length);
  const body = o.groups.map((g, gi) => {
    if (g.values.length === 0) return "";
    const cx = M.left + (gi + 0.5) * band;
    const s = [...g.values].sort((a, b) => a - b);
    const [q1, med, q3] = [
      quantile(s, 0.25),
      quantile(s, 0.5),
      quantile(s, 0.75),
    ];
    const lo = s.find((v) => v >= q1 - 1.5 * (q3 - q1))!;
    const hi = [...s].reverse().find((v) => v <= q3 + 1.5 * (q3 - q1))!;
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const bw = Math.min(60, band * 0.5);
    const pts = sample(g.values).map((v, i) =>
      `<circle cx="${cx + jitter(i) * band * 0.6}" cy="${
        y.at(v)
      }" r="2.4" fill="${color(gi)}" fill-opacity="0.45"/>`
    ).join("");
    return `<line x1="${cx}" x2="${cx}" y1="${y.at(lo)}" y2="${
      y.at(hi)
    }" class="wh"/>` +
      `<rect x="${cx - bw / 2}" y="${y.at(q3)}" width="${bw}" height="${
        Math.max(1, y.at(q1) - y.at(q3))
      }" ` +
      `fill="${color(gi)}" fill-opacity="0.18" stroke="${color(gi)}"/>` + pts +
      `<line x1="${cx - bw / 2}" x2="${cx + bw / 2}" y1="${y.at(med)}" y2="${
        y.at(med)
      }" stroke="#222" stroke-width="2"/>` +
      `<path d="M${cx} ${y.at(mean) - 5}l5 5l-5 5l-5 -5z" fill="#222"><title>${
        xml(`${g.label}: mean ${fmt(mean)}, median ${fmt(med)}, n ${s.length}`)
      }</title></path>`;
  }).join("");
  const legend =
    `<text x="${W - M.right + 14}" y="${
      M.top + 10
    }" class="lg">box: quartiles</text>` +
    `<text x="${W - M.right + 14}" y="${
      M.top + 28
    }" class="lg">bar: median</text>` +
    `<text x="${W - M.right + 14}" y="${
      M.top + 46
    }" class="lg">◆: mean</text>` +
    `<text x="${W - M.right + 14}" y="${
      M.top + 64
    }" class="lg">dots: actions</text>`;
  return frame(
    o.title,
    yAxis(y, o.yLabel) + body + xAxisLine("") +
      categoryLabels(
        o.groups.map((g) => g.label),
        (i) => M.left + (i + 0.5) * band,
        o.groups.map((g) => `n = ${g.values.length}`),
      ) +
      legend,
  );
}

/**
 * A scatter plot as an SVG string, one colour per series.
 *
 * @example
 * ```ts
 * import { scatter } from "./_svg_plots.ts";
 * const svg = scatter({ title: "Length", series: [{ name: "solver", points: [[10, 2], [200, 8]] }], xLabel: "chars", yLabel: "score" });
 * if (!svg.includes("<circle")) throw new Error("no points");
 * ```
 */
export function scatter(o: ScatterOptions): string {
  const pts = o.series.flatMap((s) => s.points);
  const x = new Axis(o.xDomain ?? extent(pts.map((p) => p[0])), [
    M.left,
    W - M.right,
  ]);
  const y = new Axis(o.yDomain ?? extent(pts.map((p) => p[1])), [
    H - M.bottom,
    M.top,
  ]);
  const diag = o.diagonal
    ? `<line x1="${x.at(Math.max(x.lo, y.lo))}" y1="${
      y.at(Math.max(x.lo, y.lo))
    }" x2="${x.at(Math.min(x.hi, y.hi))}" y2="${
      y.at(Math.min(x.hi, y.hi))
    }" class="dg"/>`
    : "";
  const dots = o.series.map((s, si) =>
    sample(s.points).map(([px, py]) =>
      `<circle cx="${x.at(px)}" cy="${y.at(py)}" r="3" fill="${
        color(si)
      }" fill-opacity="0.6"/>`
    ).join("")
  ).join("");
  return frame(
    o.title,
    yAxis(y, o.yLabel) + diag + dots + xAxisLine(o.xLabel) + xTicks(x),
    o.series.map((s) => s.name),
  );
}

/** An axis whose ticks are whole numbers only, for steps. */
class StepAxis extends Axis {
  override ticks(count = 5): number[] {
    return super.ticks(count).filter(Number.isInteger);
  }
}

function isNum(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/** The maximal runs of consecutive defined points: one polyline each. */
function segments(
  points: readonly (readonly [number, number | null])[],
): [number, number][][] {
  const out: [number, number][][] = [[]];
  for (const [x, y] of points) {
    if (isNum(y)) out[out.length - 1]!.push([x, y]);
    else if (out[out.length - 1]!.length > 0) out.push([]);
  }
  return out.filter((s) => s.length > 0);
}

/**
 * A line chart as an SVG string: one polyline per run of defined points (a null y is a gap), a dot on
 * every point with its value as a tooltip, and a legend that shows each series' colour and dash.
 *
 * @example
 * ```ts
 * import { lineChart } from "./_svg_plots.ts";
 * const svg = lineChart({ title: "Reward", series: [{ name: "solver", points: [[1, 0.2], [2, null], [3, 0.5]] }], yLabel: "reward" });
 * if (svg.includes("<polyline")) throw new Error("a gap has no line");
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  const pts = o.series.flatMap((s) =>
    s.points.filter((p): p is [number, number] => isNum(p[1]))
  );
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const integral = xs.every(Number.isInteger);
  const xDomain = extent(xs, false);
  const x = integral
    ? new StepAxis(xDomain, [M.left, W - M.right])
    : new Axis(xDomain, [M.left, W - M.right]);
  const y = new Axis(o.yDomain ?? extent(pts.map((p) => p[1])), [
    H - M.bottom,
    M.top,
  ]);
  const lines = o.series.map((s, si) => {
    const c = color(s.color ?? si);
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    const polylines = segments(s.points).filter((seg) => seg.length > 1).map(
      (seg) =>
        `<polyline points="${
          seg.map(([px, py]) => `${x.at(px)},${y.at(py)}`).join(" ")
        }" fill="none" stroke="${c}" stroke-width="2"${dash}/>`,
    ).join("");
    const dots = sample(s.points).filter((p) => isNum(p[1])).map(([px, py]) =>
      `<circle cx="${x.at(px)}" cy="${y.at(py!)}" r="3" fill="${
        s.dashed ? "#fff" : c
      }" stroke="${c}" stroke-width="1.5"><title>${
        xml(`${s.name}, ${o.xLabel ?? "step"} ${fmt(px)}: ${fmt(py!)}`)
      }</title></circle>`
    ).join("");
    return polylines + dots;
  }).join("");
  const empty = pts.length === 0
    ? `<text x="${(M.left + W - M.right) / 2}" y="${
      (M.top + H - M.bottom) / 2
    }" text-anchor="middle" class="al">no data</text>`
    : "";
  const legend = o.series.map((s, i) => {
    const c = color(s.color ?? i);
    const name = s.name.length > 20 ? `${s.name.slice(0, 19)}…` : s.name;
    return `<g transform="translate(${W - M.right + 14},${
      M.top + 4 + i * 18
    })"><line x1="0" x2="16" y1="6" y2="6" stroke="${c}" stroke-width="2"${
      s.dashed ? ` stroke-dasharray="4 2"` : ""
    }/><text x="21" y="10" class="lg">${xml(name)}<title>${
      xml(s.name)
    }</title></text></g>`;
  }).join("");
  return frame(
    o.title,
    yAxis(y, o.yLabel) + lines + empty + xAxisLine(o.xLabel ?? "step") +
      xTicks(x) + legend,
  );
}
