// Distribution plots of the run report (score histograms, box plots by role and outcome), as Vega-Lite
// specs drawn when the page is assembled (plot_render.ts).
import { color, framed, jitter, sample } from "./_plot_theme.ts";
import { plotPlaceholder } from "./plot_render.ts";

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

/**
 * A stacked histogram; integer data on a small range gets one bin per integer, centred on it.
 *
 * @example
 * ```ts
 * import { histogram } from "./plots_distribution.ts";
 * const markup = histogram({ title: "Scores", series: [{ name: "all", values: [1, 2, 2, 3] }], xLabel: "score" });
 * if (!markup.startsWith("<mappa-plot")) throw new Error("not a plot");
 * ```
 */
export function histogram(o: HistogramOptions): string {
  const all = o.series.flatMap((s) => s.values);
  const lo = o.domain?.[0] ?? (all.length ? Math.min(...all) : 0);
  const hi = o.domain?.[1] ?? (all.length ? Math.max(...all) : 1);
  const integral = all.every(Number.isInteger) && hi - lo <= 40;
  const names = o.series.map((s) => s.name);
  const extent: [number, number] = [lo, hi];
  const bin = o.binWidth !== undefined
    ? { step: o.binWidth, extent }
    : integral
    ? {
      step: 1,
      anchor: lo - 0.5,
      extent: [lo - 0.5, hi + 0.5] as [number, number],
    }
    : {
      extent,
      maxbins: Math.ceil(Math.log2(Math.max(2, all.length)) + 1),
    };
  const spec = framed(o.title, {
    data: {
      values: o.series.flatMap((s) =>
        s.values.map((value) => ({ series: s.name, value }))
      ),
    },
    mark: { type: "bar", binSpacing: 2 },
    encoding: {
      x: { field: "value", type: "quantitative", bin, title: o.xLabel },
      y: { aggregate: "count", type: "quantitative", title: "count" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: names, range: names.map((_, i) => color(i)) },
        legend: names.length > 1 ? {} : null,
      },
      order: { field: "series", sort: "ascending" },
    },
  });
  return plotPlaceholder(spec);
}

/**
 * A box plot (quartiles, median, whiskers at 1.5 IQR, mean diamond) with the points strewn over it.
 *
 * @example
 * ```ts
 * import { boxPlot } from "./plots_distribution.ts";
 * const markup = boxPlot({ title: "By role", groups: [{ label: "solver", values: [3, 5, 7] }], yLabel: "score" });
 * if (!markup.startsWith("<mappa-plot")) throw new Error("not a plot");
 * ```
 */
export function boxPlot(o: BoxPlotOptions): string {
  // The axis shows "label / n = k" on two lines; the group key carries both, split by labelExpr.
  const keys = o.groups.map((g) => `${g.label}\nn = ${g.values.length}`);
  const colors = o.groups.map((_, i) => color(i));
  const values = o.groups.flatMap((g, gi) =>
    g.values.map((value) => ({ group: keys[gi]!, value }))
  );
  const dots = o.groups.flatMap((g, gi) =>
    sample(g.values).map((value, i) => ({
      group: keys[gi]!,
      value,
      jitter: jitter(i) * 0.6,
    }))
  );
  const x = {
    field: "group",
    type: "nominal" as const,
    title: null,
    scale: { domain: keys },
    axis: { labelAngle: 0, labelExpr: "split(datum.label, '\\n')" },
  };
  const y = {
    field: "value",
    type: "quantitative" as const,
    title: o.yLabel,
    scale: o.domain ? { domain: [...o.domain] } : { zero: false },
  };
  const fill = {
    field: "group",
    type: "nominal" as const,
    scale: { domain: keys, range: colors },
    legend: null,
  };
  const spec = framed(o.title, {
    encoding: { x, y },
    layer: [
      {
        data: { values },
        mark: {
          type: "boxplot" as const,
          extent: 1.5,
          size: 40,
          opacity: 0.35,
          median: { color: "#222", strokeWidth: 2 },
          outliers: false,
        },
        encoding: { color: fill },
      },
      {
        data: { values: dots },
        mark: { type: "circle" as const, size: 18, opacity: 0.45 },
        encoding: {
          xOffset: {
            field: "jitter",
            type: "quantitative" as const,
            scale: { domain: [-0.5, 0.5] },
          },
          color: fill,
        },
      },
      {
        data: { values },
        mark: {
          type: "point" as const,
          shape: "diamond",
          filled: true,
          color: "#222",
          size: 60,
        },
        encoding: {
          y: {
            aggregate: "mean" as const,
            field: "value",
            type: "quantitative" as const,
          },
        },
      },
    ],
  }, "box: quartiles · bar: median · ◆: mean · dots: actions");
  return plotPlaceholder(spec);
}
