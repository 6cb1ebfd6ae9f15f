// Axes, frame, legend and labels shared by the plots of _svg_plots.ts. Every text that reaches the
// markup goes through `xml()`, since labels (roles, categories) are run-controlled.

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

/** Most points a strip or scatter plot draws per series; the rest are sampled out evenly. */
export const MAX_POINTS = 600;
export const W = 580;
export const H = 320;
export const M = { top: 34, right: 150, bottom: 56, left: 52 };

export function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

export function extent(
  values: readonly number[],
  pad = true,
): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  } else if (pad) {
    const p = (hi - lo) * 0.05;
    lo -= p;
    hi += p;
  }
  return [lo, hi];
}

export class Axis {
  readonly lo: number;
  readonly hi: number;
  readonly a: number;
  readonly b: number;
  constructor(domain: readonly [number, number], range: [number, number]) {
    [this.lo, this.hi] = domain[0] === domain[1]
      ? [domain[0] - 1, domain[1] + 1]
      : [domain[0], domain[1]];
    [this.a, this.b] = range;
  }
  at(v: number): number {
    return this.a + (v - this.lo) / (this.hi - this.lo) * (this.b - this.a);
  }
  ticks(count = 5): number[] {
    const step = niceStep(this.hi - this.lo, count);
    const out: number[] = [];
    for (
      let t = Math.ceil(this.lo / step) * step;
      t <= this.hi + step * 1e-9;
      t += step
    ) {
      out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
    }
    return out;
  }
}

export function frame(
  title: string,
  body: string,
  legend: readonly string[] = [],
): string {
  const items = legend.map((name, i) =>
    `<g transform="translate(${W - M.right + 14},${M.top + 4 + i * 18})">` +
    `<rect width="11" height="11" fill="${color(i)}"/>` +
    `<text x="16" y="10" class="lg">${
      xml(name.length > 20 ? `${name.slice(0, 19)}…` : name)
    }</text></g>`
  ).join("");
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
    `role="img" aria-label="${xml(title)}" class="plot"><title>${
      xml(title)
    }</title>` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    `<text x="${M.left}" y="20" class="pt">${
      xml(title)
    }</text>${body}${items}</svg>`;
}

export function yAxis(y: Axis, label: string): string {
  const x0 = M.left;
  const x1 = W - M.right;
  const lines = y.ticks().map((t) =>
    `<line x1="${x0}" x2="${x1}" y1="${y.at(t)}" y2="${
      y.at(t)
    }" class="grid"/>` +
    `<text x="${x0 - 6}" y="${y.at(t) + 4}" text-anchor="end" class="tk">${
      fmt(t)
    }</text>`
  ).join("");
  const mid = (M.top + H - M.bottom) / 2;
  return lines +
    `<line x1="${x0}" x2="${x0}" y1="${M.top}" y2="${
      H - M.bottom
    }" class="ax"/>` +
    `<text transform="translate(14,${mid}) rotate(-90)" text-anchor="middle" class="al">${
      xml(label)
    }</text>`;
}

export function xAxisLine(label: string): string {
  return `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${
    H - M.bottom
  }" class="ax"/>` +
    `<text x="${(M.left + W - M.right) / 2}" y="${
      H - 8
    }" text-anchor="middle" class="al">${xml(label)}</text>`;
}

export function xTicks(x: Axis): string {
  return x.ticks(6).map((t) =>
    `<line x1="${x.at(t)}" x2="${x.at(t)}" y1="${H - M.bottom}" y2="${
      H - M.bottom + 4
    }" class="ax"/>` +
    `<text x="${x.at(t)}" y="${
      H - M.bottom + 16
    }" text-anchor="middle" class="tk">${fmt(t)}</text>`
  ).join("");
}

export function categoryLabels(
  labels: readonly string[],
  center: (i: number) => number,
  notes: readonly string[] = [],
): string {
  const room = (W - M.left - M.right) / Math.max(1, labels.length);
  const max = Math.max(6, Math.floor(room / 6.5));
  return labels.map((l, i) => {
    const shown = l.length > max ? `${l.slice(0, max - 1)}…` : l;
    const y = H - M.bottom + 16;
    const note = notes[i] === undefined
      ? ""
      : `<text x="${center(i)}" y="${y + 13}" text-anchor="middle" class="tk">${
        xml(notes[i]!)
      }</text>`;
    return `<text x="${center(i)}" y="${y}" text-anchor="middle" class="tk">${
      xml(shown)
    }<title>${xml(l)}</title></text>${note}`;
  }).join("");
}

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

/** CSS for the classes the plots use; the report inlines it once. */
export const PLOT_CSS =
  `svg.plot{max-width:100%;height:auto;font-family:system-ui,sans-serif}
svg.plot .pt{font-size:14px;font-weight:600;fill:#222}
svg.plot .tk,svg.plot .vl{font-size:11px;fill:#444}
svg.plot .al,svg.plot .lg{font-size:12px;fill:#333}
svg.plot .grid{stroke:#e4e4e4}
svg.plot .ax{stroke:#666}
svg.plot .wh{stroke:#555}
svg.plot .dg{stroke:#999;stroke-dasharray:4 3}`;
