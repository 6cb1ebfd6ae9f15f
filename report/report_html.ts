// HTML building blocks of the run report. `html` escapes every interpolated value unless it is already
// `Html`, so a run-controlled string (a reply, a role id, a category) can never become markup.

/** Markup that is already safe: produced by `html`, `raw` or the plot functions. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** A value `html` accepts: text (escaped), numbers, safe markup, lists of those; null/undefined/false render nothing. */
export type HtmlValue =
  | string
  | number
  | Html
  | null
  | undefined
  | false
  | readonly HtmlValue[];

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./report_html.ts";
 * if (escapeHtml("<script>") !== "&lt;script&gt;") throw new Error("not escaped");
 * ```
 */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join("");
  if (typeof v === "number") return escapeHtml(fmtNum(v));
  return escapeHtml(v as string);
}

/**
 * Tagged template: literal parts are markup, interpolations are escaped.
 *
 * @example
 * ```ts
 * import { html } from "./report_html.ts";
 * const reply = "<img onerror=x>";
 * if (html`<td>${reply}</td>`.value !== "<td>&lt;img onerror=x&gt;</td>") throw new Error("unsafe");
 * ```
 */
export function html(
  strings: TemplateStringsArray,
  ...values: HtmlValue[]
): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]!) + strings[i + 1]!;
  }
  return new Html(out);
}

/** Trusted markup (the plot SVG, static CSS): never pass run-controlled text. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** A number for people: integers as is, others with 3 significant digits (2 decimals at most above 1). */
export function fmtNum(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1
    ? v.toFixed(digits)
    : v.toPrecision(Math.max(1, digits));
}

/** A rate as a percentage with one decimal, or "–". */
export function fmtPct(num: number, den: number): string {
  return den === 0 ? "–" : `${(100 * num / den).toFixed(1)}%`;
}

/** US dollars, "unknown" when no cost was recorded. */
export function fmtUsd(v: number | null): string {
  if (v === null) return "unknown";
  return v === 0
    ? "$0"
    : v < 0.01
    ? `$${v.toPrecision(2)}`
    : `$${v.toFixed(2)}`;
}

/** A table with a header row; cells are escaped unless they are `Html`. */
export function table(
  head: readonly string[],
  rows: readonly (readonly HtmlValue[])[],
  caption?: string,
): Html {
  return html`<table>${
    caption ? html`<caption>${caption}</caption>` : null
  }<thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${
    rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)
  }</tbody></table>`;
}

/** A two-column table of names and values, without a header row. */
export function kvTable(rows: readonly (readonly [string, HtmlValue])[]): Html {
  return html`
    <table class="kv">
      <tbody>${rows.map(([k, v]) =>
        html`
          <tr>
            <th>${k}</th>
            <td>${v}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

/**
 * Charts (SVG from the plot functions) side by side, one figure each; a null chart (nothing to draw)
 * is left out.
 */
export function figures(charts: readonly (string | null)[]): Html {
  return html`<div class="plots">${
    charts.filter((c): c is string => c !== null).map((c) =>
      html`<figure>${raw(c)}</figure>`
    )
  }</div>`;
}

/** A callout box: `warn` for findings a reader must not miss, `note` for context. */
export function callout(kind: "warn" | "note" | "demo", body: HtmlValue): Html {
  return html`<div class="${kind}">${body}</div>`;
}

/** The report's stylesheet (system fonts only: nothing is fetched). */
export const REPORT_CSS =
  `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1260px;padding:16px 24px;color:#1d1d1d;background:#fafafa}
h1{font-size:1.5em;margin:.4em 0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:1.8em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:8px 0 14px;font-size:.9em;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0}
caption{text-align:left;font-weight:600;padding:4px 0}
td.num,th.num{text-align:right}
.plots{display:flex;flex-wrap:wrap;gap:12px}
.plots figure{margin:0;background:#fff;border:1px solid #e2e2e2;padding:4px}
.warn{background:#fff3e0;border-left:6px solid #e65100;padding:8px 12px;margin:10px 0}
.demo{background:#ffebee;border:3px solid #c62828;padding:10px 14px;margin:10px 0;font-weight:600;font-size:1.1em}
.note{background:#eef4fb;border-left:6px solid #0072b2;padding:8px 12px;margin:10px 0}
pre{white-space:pre-wrap;word-break:break-word;max-height:12em;overflow:auto;background:#f6f6f6;padding:6px;margin:0;font-size:.85em}
code{background:#f0f0f0;padding:0 3px}
.muted{color:#666}`;
