/** A matrix written as rows of cell texts. */
export type Rows = readonly (readonly string[])[];

const MATRIX =
  /^\\begin\{([pbB]?matrix|array)\}(?:(?<=array\})\{[a-z|]*\})?((?:(?!\\end\{).)*)\\end\{\1\}$/s;

/** Longest cell a matrix sum or product may build, in characters (the parser's atom budget). */
const MAX_CELL = 400;
/** Most cells of a matrix in a sum or product (competition answers are small; each cell is evaluated). */
const MAX_CELLS = 64;

/** Written matrices joined by `+`/`-` (a sum) or by nothing/`\cdot` (a product), never both: signs, rows, operation. */
function matrixTerms(s: string): [string[], Rows[], "+" | "*"] | undefined {
  const signs: string[] = ["+"];
  const terms: Rows[] = [];
  let op: "+" | "*" | undefined;
  let i = 0;
  for (;;) {
    const open = /^\\begin\{([pbB]?matrix)\}/.exec(s.slice(i, i + 20));
    if (!open) return undefined;
    const tag = `\\end{${open[1]}}`;
    const end = s.indexOf(tag, i);
    if (end < 0) return undefined;
    const rows = matrixRows(s.slice(i, end + tag.length));
    if (!rows || rows.length * (rows[0]?.length ?? 0) > MAX_CELLS) {
      return undefined;
    }
    terms.push(rows);
    i = end + tag.length;
    if (i === s.length) break;
    const next = /^(?:\+|-|\\cdot)?(?=\\begin)/.exec(s.slice(i, i + 12));
    if (!next) return undefined;
    const kind = next[0] === "+" || next[0] === "-" ? "+" : "*";
    if (op !== undefined && op !== kind) return undefined;
    op = kind;
    signs.push(next[0] === "-" ? "-" : "+");
    i += next[0].length;
  }
  return op === undefined ? undefined : [signs, terms, op];
}

/**
 * A sum or product of written matrices as one matrix whose cells are expressions ("(1)+(5)"), so the cells compare by
 * value; undefined when the shapes do not fit or a cell would pass {@linkcode MAX_CELL}.
 */
export function matrixArithmetic(s: string): { rows: Rows } | undefined {
  if (!s.startsWith("\\begin{")) return undefined;
  const found = matrixTerms(s);
  if (!found) return undefined;
  const [signs, terms, op] = found;
  let acc: Rows = terms[0]!;
  for (let t = 1; t < terms.length; t++) {
    const b = terms[t]!;
    if (op === "+") {
      if (
        b.length !== acc.length ||
        b.some((row, k) => row.length !== acc[k]!.length)
      ) return undefined;
      acc = acc.map((row, i) =>
        row.map((cell, j) => `(${cell})${signs[t]}(${b[i]![j]})`)
      );
    } else {
      const cols = b[0]?.length ?? 0;
      if (
        acc.some((row) => row.length !== b.length) ||
        b.some((row) => row.length !== cols)
      ) return undefined;
      acc = acc.map((row) =>
        Array.from(
          { length: cols },
          (_, j) => row.map((cell, k) => `(${cell})(${b[k]![j]})`).join("+"),
        )
      );
    }
    if (acc.some((row) => row.some((cell) => cell.length > MAX_CELL))) {
      return undefined;
    }
  }
  return { rows: acc };
}

/** The cells of one written matrix (rows split at `\\\\`, an empty last row dropped), or undefined. */
export function matrixRows(s: string): Rows | undefined {
  const m = MATRIX.exec(s);
  if (!m) return undefined;
  return m[2]!.split("\u0001").filter((r) => r.trim() !== "").map((r) =>
    r.split("&")
  );
}
