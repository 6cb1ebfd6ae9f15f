// What every plot shares: the palette, the DOM Observable Plot draws into, the frame, point thinning.
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

/** Okabe–Ito palette: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#000000",
] as const;

/** Most points a strip, scatter or line plot draws per series; the rest are sampled out evenly. */
const MAX_POINTS = 600;

// Plot needs a DOM only to build elements; linkedom's is enough and serializes them escaped.
const DOCUMENT =
  (parseHTML("<!DOCTYPE html><html><body></body></html>") as unknown as {
    document: Plot.PlotOptions["document"];
  }).document;

/** The palette colour of series `i`, wrapping around. */
export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** At most MAX_POINTS of `items`, evenly spaced, so a long run keeps the page small; deterministic. */
export function sample<T>(items: readonly T[]): T[] {
  if (items.length <= MAX_POINTS) return [...items];
  const step = items.length / MAX_POINTS;
  return Array.from(
    { length: MAX_POINTS },
    (_, i) => items[Math.floor(i * step)]!,
  );
}

/** Deterministic jitter in [-0.5, 0.5): the same data always draws the same picture. */
export function jitter(i: number): number {
  const s = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return s - Math.floor(s) - 0.5;
}

/** A number for a label: integers as is, else 2 decimals (3 significant digits below 1). */
export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/** A colour legend of named series, or none for a single series. */
export function seriesColor(
  names: readonly string[],
  colors: readonly string[] = names.map((_, i) => color(i)),
): Plot.ScaleOptions {
  return {
    domain: [...names],
    range: [...colors],
    legend: names.length > 1 ? "swatches" : false,
  };
}

/** One plot as markup: a `<figure>` with its title, legend and SVG, 580 × 320, in the report's fonts. */
export function figure(options: Plot.PlotOptions): string {
  const el = Plot.plot({
    document: DOCUMENT,
    className: "mp",
    width: 580,
    height: 320,
    marginLeft: 56,
    marginBottom: 44,
    style: { fontSize: "11px" },
    ...options,
  });
  return el.outerHTML;
}
