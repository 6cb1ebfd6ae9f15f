import type {
  ActionDifference,
  Comparison,
  GroupComparison,
  LayerTotals,
} from "./compare.ts";

/** Options of `formatComparison`. */
export interface FormatComparisonOptions {
  /**
   * Rows of each action list (flips, status changes, largest differences); the JSON output has them all.
   * @default 20
   */
  readonly limit?: number;
}

const NONE = "-";

function num(x: number | null, digits = 2): string {
  return x === null ? NONE : x.toFixed(digits);
}

function signed(x: number | null, digits = 2): string {
  return x === null ? NONE : `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;
}

function usd(x: number, signedValue = false): string {
  const text = `$${Math.abs(x).toFixed(4)}`;
  return signedValue ? `${x < 0 ? "-" : "+"}${text}` : text;
}

/** Renders rows as columns separated by two spaces; columns in `right` are right-aligned. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number>,
): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((c, i) =>
      right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)
    )
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

function layerRow(label: string, t: LayerTotals): string[] {
  return [
    label,
    t.layer ?? "(empty)",
    String(t.verdicts),
    String(t.scored),
    String(t.unscored),
    num(t.mean),
    String(t.judge_calls),
    String(t.cache_hits),
    `${t.prompt_tokens}/${t.completion_tokens}`,
    usd(t.cost_usd) +
    (t.cost_unknown > 0 ? ` (+${t.cost_unknown} unknown)` : ""),
  ];
}

function groupTable(
  title: string,
  groups: readonly GroupComparison[],
): string[] {
  const rows = groups.map((g) => [
    g.group ?? "(none)",
    String(g.a.scored),
    num(g.a.mean),
    String(g.b.scored),
    num(g.b.mean),
    signed(g.delta),
    String(g.a.unscored),
    String(g.b.unscored),
  ]);
  return table(
    [
      title,
      "A n",
      "A mean",
      "B n",
      "B mean",
      "delta",
      "A unscored",
      "B unscored",
    ],
    rows,
    new Set([1, 2, 3, 4, 5, 6, 7]),
  );
}

function actionTable(
  diffs: readonly ActionDifference[],
  last: (d: ActionDifference) => string,
  lastHeader: string,
): string[] {
  const rows = diffs.map((d) => [
    d.episode_id,
    String(d.attempt),
    String(d.action_index),
    d.role,
    d.a === null ? d.a_reason ?? NONE : num(d.a, 1),
    d.b === null ? d.b_reason ?? NONE : num(d.b, 1),
    last(d),
  ]);
  return table(
    ["episode", "attempt", "action", "role", "A", "B", lastHeader],
    rows,
    new Set([1, 2, 4, 5]),
  );
}

function section(
  out: string[],
  title: string,
  all: readonly ActionDifference[],
  limit: number,
  body: (shown: readonly ActionDifference[]) => string[],
) {
  out.push("", `${title} (${all.length})`);
  if (all.length === 0) return;
  out.push(...body(all.slice(0, limit)));
  if (all.length > limit) {
    out.push(`... ${all.length - limit} more in the JSON output`);
  }
}

/**
 * Renders a comparison as text: each layer's totals and cost, agreement over paired actions, per-role and
 * per-category means, then flips, status changes and the largest differences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareLayers } from "./compare.ts";
 * import { formatComparison } from "./compare_format.ts";
 * const text = formatComparison(compareLayers([], []));
 * assert.match(text, /0 actions scored in both/);
 * ```
 */
export function formatComparison(
  c: Comparison,
  options: FormatComparisonOptions = {},
): string {
  const limit = options.limit ?? 20;
  const out = table(
    [
      "layer",
      "rubric",
      "verdicts",
      "scored",
      "unscored",
      "mean",
      "judge calls",
      "cache hits",
      "tokens in/out",
      "cost",
    ],
    [layerRow("A", c.a), layerRow("B", c.b)],
    new Set([2, 3, 4, 5, 6, 7, 8]),
  );
  out.push(
    `B - A: mean ${
      signed(
        c.a.mean === null || c.b.mean === null ? null : c.b.mean - c.a.mean,
      )
    }, ` +
      `judge calls ${
        c.cost.delta_calls >= 0 ? "+" : ""
      }${c.cost.delta_calls}, ` +
      `cost ${usd(c.cost.delta_usd, true)}`,
    "",
    `${c.paired} actions scored in both: Spearman ${
      num(c.spearman, 3)
    }, Kendall tau-b ${num(c.kendall_tau_b, 3)}, mean delta ${
      signed(c.mean_delta)
    }, mean |delta| ${num(c.mean_abs_delta)}`,
    "",
    ...groupTable("role", c.by_role),
    "",
    ...groupTable("category", c.by_category),
  );
  section(
    out,
    `Flips across ${c.threshold}`,
    c.flips,
    limit,
    (shown) => actionTable(shown, (d) => d.flip ?? "", "flip"),
  );
  section(
    out,
    "Status changes",
    c.status_changes,
    limit,
    (shown) =>
      actionTable(shown, (d) => d.status.replaceAll("_", " "), "change"),
  );
  const largest = c.actions.filter((d) => d.delta !== null && d.delta !== 0)
    .sort((x, y) => Math.abs(y.delta!) - Math.abs(x.delta!));
  section(
    out,
    "Largest differences",
    largest,
    limit,
    (shown) => actionTable(shown, (d) => signed(d.delta, 1), "delta"),
  );
  return out.join("\n") + "\n";
}
