// What every plot shares: the palette, the Vega-Lite config, the frame size, and point thinning.
import type { TopLevelSpec } from "vega-lite";

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

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** Every MAX_POINTS-th share of `items`, so a long run keeps the page small; deterministic. */
export function sample<T>(items: readonly T[]): readonly T[] {
  if (items.length <= MAX_POINTS) return items;
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

type Framing = "$schema" | "config" | "width" | "height" | "title" | "autosize";
/** A spec without what `framed` fills in, kept a union (a plain Omit would collapse it). */
type Body = TopLevelSpec extends infer S ? S extends unknown ? Omit<S, Framing>
  : never
  : never;

/** A plot's spec with the shared size (580 × 320 in all, legend included), title style and fonts. */
export function framed(
  title: string,
  body: Body,
  subtitle?: string,
): TopLevelSpec {
  return {
    width: 580,
    height: 320,
    autosize: { type: "fit", contains: "padding" },
    title: subtitle === undefined ? { text: title } : { text: title, subtitle },
    ...body,
    config: {
      font: "system-ui, sans-serif",
      // No aria-label on every mark: it tripled the page; the tables carry the numbers for screen readers.
      aria: false,
      background: "#fff",
      title: { anchor: "start", fontSize: 14, subtitleColor: "#444" },
      axis: {
        gridColor: "#e4e4e4",
        labelColor: "#444",
        titleColor: "#333",
        titleFontSize: 12,
      },
      legend: { labelLimit: 140, labelFontSize: 12 },
      view: { stroke: null },
    },
  } as TopLevelSpec;
}
