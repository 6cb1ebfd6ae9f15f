// Plots are Vega-Lite specs until the page is assembled: the builders stay synchronous (they sit inside
// `html` templates) and `renderPlots` turns each placeholder into inline SVG once, so the page has no
// scripts and fetches nothing. vega and vega-lite load on first use: the CLI's other commands never pay
// for them (about 9 MB of JavaScript).
import { Buffer } from "node:buffer";
import type { TopLevelSpec } from "vega-lite";

const PLACEHOLDER = /<mappa-plot data-spec="([A-Za-z0-9+/=]*)"><\/mappa-plot>/g;

/**
 * Markup standing for a plot until `renderPlots` draws it: the spec travels base64-encoded, so no
 * run-controlled text reaches the markup before Vega escapes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plotPlaceholder } from "./plot_render.ts";
 * assert.match(plotPlaceholder({ mark: "point", data: { values: [] } }), /^<mappa-plot data-spec="/);
 * ```
 */
export function plotPlaceholder(spec: TopLevelSpec): string {
  const data = Buffer.from(JSON.stringify(spec), "utf8").toString("base64");
  return `<mappa-plot data-spec="${data}"></mappa-plot>`;
}

/**
 * One Vega-Lite spec as a standalone SVG string (Vega's headless renderer: no DOM, no canvas).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderPlot } from "./plot_render.ts";
 * const svg = await renderPlot({ mark: "point", data: { values: [{ a: 1 }] }, encoding: { x: { field: "a", type: "quantitative" } } });
 * assert.match(svg, /^<svg /);
 * ```
 */
export async function renderPlot(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  // Library code never logs (STYLE.md §9): both libraries' warnings go nowhere.
  const logger = vega.logger(vega.None);
  const view = new vega.View(vega.parse(vl.compile(spec, { logger }).spec), {
    renderer: "none",
    logger,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Markup with every plot placeholder replaced by its SVG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plotPlaceholder, renderPlots } from "./plot_render.ts";
 * const spec = { mark: "point" as const, data: { values: [{ a: 1 }] } };
 * const page = await renderPlots(`<figure>${plotPlaceholder(spec)}</figure>`);
 * assert.match(page, /^<figure><svg /);
 * ```
 */
export async function renderPlots(markup: string): Promise<string> {
  const specs = [...markup.matchAll(PLACEHOLDER)].map((m) =>
    JSON.parse(Buffer.from(m[1]!, "base64").toString("utf8")) as TopLevelSpec
  );
  const svgs: string[] = [];
  for (const spec of specs) svgs.push(await renderPlot(spec));
  let i = 0;
  return markup.replace(PLACEHOLDER, () => svgs[i++]!);
}
