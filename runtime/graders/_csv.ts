/** CSV reading for the tabular grader (private). */
import { parse } from "csv-parse/sync";

/**
 * RFC 4180 CSV through csv-parse: quoted fields with "" escapes and line breaks, CRLF, LF or CR rows
 * (mixed), a BOM, blank lines skipped, a stray quote inside an unquoted field kept as text. Rows may
 * differ in length (toTable says which row). The reason, when the text is not CSV.
 */
export function parseCsv(text: string): string[][] | string {
  try {
    return parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      record_delimiter: ["\r\n", "\n", "\r"],
    }) as string[][];
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "CSV_QUOTE_NOT_CLOSED") return "a quoted field is not closed";
    return e instanceof Error ? e.message : String(e);
  }
}

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function toTable(text: string, name: string): Table | string {
  const parsed = parseCsv(text);
  if (typeof parsed === "string") return `${name} is not valid CSV: ${parsed}`;
  const [header, ...rows] = parsed;
  if (header === undefined) return `${name} is empty`;
  const bad = rows.findIndex((r) => r.length !== header.length);
  if (bad >= 0) {
    return `${name} data row ${bad + 1} has ${
      rows[bad]!.length
    } fields, expected ${header.length}`;
  }
  return { header: header.map((h) => h.trim()), rows };
}
