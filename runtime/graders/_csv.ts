/** CSV reading for the tabular grader (private). */

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks, CRLF or LF rows, a BOM, blank lines skipped. */
export function parseCsv(text: string): string[][] | string {
  const rows: string[][] = [];
  let row: string[] = [], field = "", inQuotes = false, wasQuoted = false;
  const endField = () => {
    row.push(field);
    field = "";
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"', i++);
      else inQuotes = false;
    } else if (c === '"' && field === "" && !wasQuoted) {
      inQuotes = wasQuoted = true;
    } else if (c === ",") (endField(), wasQuoted = false);
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endField();
      if (row.length > 1 || row[0] !== "" || wasQuoted) rows.push(row);
      row = [], wasQuoted = false;
    } else field += c;
  }
  if (inQuotes) return "a quoted field is not closed";
  if (row.length > 0 || field !== "" || wasQuoted) (endField(), rows.push(row));
  return rows;
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
