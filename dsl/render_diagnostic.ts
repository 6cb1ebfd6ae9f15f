import { type Diagnostic, formatPath } from "./diagnostic.ts";
import type { SourceText } from "./source_text.ts";

const MAX_SNIPPET = 120;

/** Source texts by file, to print snippets; a diagnostic whose file is missing prints without one. */
export type SourceLookup = ReadonlyMap<string, SourceText>;

/**
 * Renders a diagnostic the way compilers do: `file:line:col: severity[code]: message`, the source line
 * with a caret, the key path, related locations and a hint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDiagnostic } from "./render_diagnostic.ts";
 * const text = renderDiagnostic({
 *   code: "unknown_role", severity: "error", message: "Cannot resolve role \"x\"",
 *   file: "p.yaml", path: ["roles", 0, "after", 0],
 * }, new Map());
 * assert(text.startsWith("p.yaml: error[unknown_role]"));
 * ```
 */
export function renderDiagnostic(d: Diagnostic, sources: SourceLookup): string {
  const pos = d.position;
  const head = pos ? `${d.file}:${pos.line}:${pos.column}` : d.file;
  const lines = [`${head}: ${d.severity}[${d.code}]: ${d.message}`];
  const source = sources.get(d.file);
  if (pos && source) {
    const text = source.lineText(pos.line).replace(/\t/g, " ");
    const gutter = String(pos.line).length;
    const pad = " ".repeat(gutter);
    let width = 1;
    if (d.end && d.end.line === pos.line && d.end.column > pos.column) {
      width = d.end.column - pos.column;
    } else {
      const rest = text.slice(pos.column - 1);
      const token = /^[^\s,\]}]+/.exec(rest);
      width = token ? token[0].length : 1;
    }
    width = Math.max(
      1,
      Math.min(width, Math.max(1, text.length - pos.column + 1)),
    );
    // Long lines are shown as a window around the column, so one huge scalar cannot flood the terminal.
    let shown = text;
    let column = pos.column;
    if (text.length > MAX_SNIPPET) {
      const from = Math.max(
        0,
        Math.min(pos.column - 1 - 40, text.length - MAX_SNIPPET),
      );
      shown = `${from > 0 ? "..." : ""}${text.slice(from, from + MAX_SNIPPET)}${
        from + MAX_SNIPPET < text.length ? "..." : ""
      }`;
      column = pos.column - from + (from > 0 ? 3 : 0);
      width = Math.min(width, MAX_SNIPPET - (column - 1));
    }
    lines.push(`${pad} |`);
    lines.push(`${pos.line} | ${shown}`);
    lines.push(
      `${pad} | ${" ".repeat(Math.max(0, column - 1))}${
        "^".repeat(Math.max(1, width))
      }`,
    );
  }
  if (d.path.length > 0) lines.push(`   = at: ${formatPath(d.path)}`);
  for (const r of d.related ?? []) {
    const where = r.position
      ? `${r.file}:${r.position.line}:${r.position.column}`
      : r.file;
    lines.push(`   = note: ${where}: ${r.message}`);
  }
  if (d.hint) lines.push(`   = hint: ${d.hint}`);
  return lines.join("\n");
}

/**
 * Renders many diagnostics separated by blank lines, with a closing count line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDiagnostics } from "./render_diagnostic.ts";
 * assert.equal(renderDiagnostics([], new Map()), "0 errors, 0 warnings");
 * ```
 */
export function renderDiagnostics(
  ds: readonly Diagnostic[],
  sources: SourceLookup,
): string {
  // The too_many_errors note is not a problem of its own: it only says how many were left out.
  const counted = ds.filter((d) => d.code !== "too_many_errors");
  const errors = counted.filter((d) => d.severity === "error").length;
  const warnings = counted.length - errors;
  const body = ds.map((d) => renderDiagnostic(d, sources)).join("\n\n");
  const summary = `${errors} error${
    errors === 1 ? "" : "s"
  }, ${warnings} warning${warnings === 1 ? "" : "s"}`;
  return body === "" ? summary : `${body}\n\n${summary}`;
}
