import type { DiagnosticCode } from "./diagnostic_codes.ts";

/** A place in a source file: 1-based line and column, 0-based offset. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** A span in a source file; `end` is exclusive. */
export interface SourceSpan {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

/** Another place that explains a diagnostic, e.g. where a duplicate was first declared. */
export interface RelatedLocation {
  readonly file: string;
  readonly position?: SourcePosition;
  readonly message: string;
}

/** One problem found in a pipeline spec, as data; `renderDiagnostic` turns it into text. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: "error" | "warning";
  /** std grammar: `Cannot <action> <thing>: <current state>`, no trailing period. */
  readonly message: string;
  /** The file the problem is in, as given to the compiler (relative to the working directory). */
  readonly file: string;
  /** Absent only for TS-authored specs, which have no source text. */
  readonly position?: SourcePosition;
  /** Where the highlighted text ends; the caret underlines from `position` to here on one line. */
  readonly end?: SourcePosition;
  /** The key path in the merged spec, e.g. `["roles", 2, "consumes", 0]`. */
  readonly path: readonly (string | number)[];
  readonly related?: readonly RelatedLocation[];
  readonly hint?: string;
}

/**
 * Formats a key path the way an author reads it: `roles[2].consumes[0]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPath } from "./diagnostic.ts";
 * assert.equal(formatPath(["roles", 2, "consumes", 0]), "roles[2].consumes[0]");
 * ```
 */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
      out += out === "" ? part : `.${part}`;
    } else out += `[${JSON.stringify(part)}]`;
  }
  return out === "" ? "(root)" : out;
}

/** Orders diagnostics by file, line, column, then code, so output is stable. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  const la = a.position?.line ?? 0, lb = b.position?.line ?? 0;
  if (la !== lb) return la - lb;
  const ca = a.position?.column ?? 0, cb = b.position?.column ?? 0;
  if (ca !== cb) return ca - cb;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
