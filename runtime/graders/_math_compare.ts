import { canonicalNumber } from "./_math_normalize.ts";
import { matrixArithmetic, matrixRows } from "./_math_matrix.ts";
import { constantValue, numericEqual, proportional } from "./_math_numeric.ts";

/** The resolved options of a comparison. */
export interface CompareOptions {
  readonly tolerance: number;
  readonly chained: "last" | "whole";
  /** Decimal places a written decimal is compared at (Math-Verify's `float_rounding`); undefined: by tolerance. */
  readonly precision?: number | undefined;
}

// Recursion over nested structure is bounded: past this depth, or this many pairwise comparisons, "not equal".
const MAX_DEPTH = 8;
const MAX_STEPS = 2000;

interface Budget {
  steps: number;
}

/** A cleaned answer's structure. */
type Parts =
  | { readonly kind: "set" | "list"; readonly items: readonly string[] }
  | {
    readonly kind: "tuple";
    readonly brackets: string;
    readonly items: readonly string[];
  }
  | { readonly kind: "matrix"; readonly rows: readonly (readonly string[])[] }
  | { readonly kind: "atom"; readonly value: string };

const OPEN = "([{";
const CLOSE = ")]}";

/** Splits at `sep` outside any bracket (a bracket's kind is not matched, so intervals like "(1,2]" split too). */
function splitTop(s: string, sep: RegExp): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) depth--;
    else if (depth === 0) {
      const m = sep.exec(s.slice(i, i + 12));
      if (m && m.index === 0) {
        items.push(s.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  items.push(s.slice(start));
  return items;
}

/** Whether the bracket at 0 closes at the last character (so "(1)(2)" is not wrapped). */
function wraps(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (OPEN.includes(s[i]!)) depth++;
    else if (CLOSE.includes(s[i]!)) depth--;
    if (depth === 0 && i < s.length - 1) return false;
  }
  return depth === 0;
}

function parts(s: string): Parts {
  const rows = matrixArithmetic(s)?.rows ?? matrixRows(s);
  if (rows) return { kind: "matrix", rows };
  if (s.startsWith("\\{") && s.endsWith("\\}") && wraps(s.slice(1))) {
    return { kind: "set", items: splitTop(s.slice(2, -2), /^,/) };
  }
  const first = s[0] ?? "";
  const last = s.at(-1) ?? "";
  if (
    OPEN.includes(first) && CLOSE.includes(last) && s.length >= 2 && wraps(s)
  ) {
    const items = splitTop(s.slice(1, -1), /^,/);
    if (items.length === 1) {
      const inner = parts(items[0]!);
      // "(M)" and "[M]" around a matrix are its brackets.
      return first === "{" || first + last === "()" ||
          (first + last === "[]" && inner.kind === "matrix")
        ? inner
        : { kind: "atom", value: s };
    }
    return first === "{"
      ? { kind: "set", items }
      : { kind: "tuple", brackets: first + last, items };
  }
  const items = splitTop(s, /^,/);
  return items.length > 1
    ? { kind: "list", items }
    : { kind: "atom", value: s };
}

/** A name an answer may be prefixed with: `x`, `x_1`, `f(x)`, `AB`, `|AB|`, `\alpha`, `(p,q)`, `\frac{NO}{BO}`. */
const ONE_NAME = String
  .raw`(?:\|[a-zA-Z]{1,3}\||[a-zA-Z]{1,3}'*(?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\([a-zA-Z](?:,[a-zA-Z])*\)|\([a-zA-Z](?:,[a-zA-Z])*\)|\\frac\{[a-zA-Z]{1,3}\}\{[a-zA-Z]{1,3}\})`;
/** A ratio of names (`V_1:V_2`) is a name too. */
const NAME = new RegExp(`^${ONE_NAME}(?::${ONE_NAME})*$`);

const RELATION = /^(?:<|>|\\le(?![a-zA-Z])|\\ge(?![a-zA-Z])|\\ne(?![a-zA-Z]))/;

/** A name written without braces or spaces: `a_{37}` and `a_37` are one name. */
function nameOf(s: string): string {
  return s.replace(/[{}\s]/g, "");
}

/** Whether an item is a named equation ("x_1 = 3"), so that its place in a list does not matter. */
function named(s: string): boolean {
  const sides = splitTop(s, /^=/);
  return sides.length > 1 && NAME.test(sides[0]!);
}

/** Two equations `l = r`: the same sides, or `l - r` on one a constant non-zero multiple of the other's. */
function equationEqual(
  ex: readonly string[],
  ey: readonly string[],
  o: CompareOptions,
  budget: Budget,
  depth: number,
): boolean {
  if (sameItems(ex, ey, true, o, budget, depth)) return true;
  return proportional(`(${ex[0]})-(${ex[1]})`, `(${ey[0]})-(${ey[1]})`) ===
    true;
}

function sameItems(
  xs: readonly string[],
  ys: readonly string[],
  ordered: boolean,
  o: CompareOptions,
  budget: Budget,
  depth: number,
): boolean {
  if (ordered) {
    if (xs.length !== ys.length) return false;
    return xs.every((x, k) => equal(x, ys[k]!, o, budget, depth + 1));
  }
  // Sets: each element of one has an equal element in the other (a repeated element counts once).
  return xs.every((x) => ys.some((y) => equal(x, y, o, budget, depth + 1))) &&
    ys.every((y) => xs.some((x) => equal(x, y, o, budget, depth + 1)));
}

/** `a \pm b` as the pair `a+b`, `a-b`; undefined when there is not exactly one ± or ∓. */
function plusMinus(s: string): string[] | undefined {
  const all = s.match(/\\(?:pm|mp)(?![a-zA-Z])|±/g);
  if (all?.length !== 1) return undefined;
  return [
    s.replace(/\\(?:pm|mp)(?![a-zA-Z])|±/, "+"),
    s.replace(/\\(?:pm|mp)(?![a-zA-Z])|±/, "-"),
  ];
}

/** Relation chain in "<"/"\le" direction: [sides, ops], or undefined when there is no relation or directions mix. */
function relation(s: string): [string[], string[]] | undefined {
  const sides = splitTop(s, RELATION);
  if (sides.length < 2) return undefined;
  const ops: string[] = [];
  let rest = s;
  for (const side of sides.slice(0, -1)) {
    rest = rest.slice(side.length);
    const op = RELATION.exec(rest)![0];
    ops.push(op);
    rest = rest.slice(op.length);
  }
  const down = ops.every((op) => op === ">" || op === "\\ge");
  const up = ops.every((op) => op === "<" || op === "\\le" || op === "\\ne");
  if (down) {
    return [
      sides.reverse(),
      ops.reverse().map((op) => (op === ">" ? "<" : "\\le")),
    ];
  }
  return up ? [sides, ops] : undefined;
}

const DECIMAL = /^[-+]?\d*\.\d+$/;

/** `v` rounded to `places` decimals, as an integer count of units in the last place. */
function rounded(v: number, places: number): number {
  return Math.round(v * 10 ** places + Math.sign(v) * 1e-9);
}

const DECIMAL_COMMA = /^[-+]?\d+,\d+$/;

/** An inequality on one name as an interval: `-2 \le x < 7` is `[-2,7)`, `x > 3` is `(3,\infty)`. */
function intervalOf(
  [sides, ops]: [string[], string[]],
): { brackets: string; items: string[] } | undefined {
  const s = sides.map((side) => side.trim());
  const open = (op: string | undefined) =>
    op === "<" ? true : op === "\\le" ? false : undefined;
  if (
    s.length === 3 && NAME.test(s[1]!) && !NAME.test(s[0]!) && !NAME.test(s[2]!)
  ) {
    const [lo, hi] = [open(ops[0]), open(ops[1])];
    if (lo === undefined || hi === undefined) return undefined;
    return {
      brackets: (lo ? "(" : "[") + (hi ? ")" : "]"),
      items: [s[0]!, s[2]!],
    };
  }
  if (s.length !== 2 || NAME.test(s[0]!) === NAME.test(s[1]!)) return undefined;
  const strict = open(ops[0]);
  if (strict === undefined) return undefined;
  return NAME.test(s[0]!)
    ? { brackets: "(" + (strict ? ")" : "]"), items: ["-\\infty", s[1]!] }
    : { brackets: (strict ? "(" : "[") + ")", items: [s[0]!, "\\infty"] };
}

function atomEqual(a: string, b: string, o: CompareOptions): boolean {
  const x = canonicalNumber(a);
  const y = canonicalNumber(b);
  if (x === y) return true;
  if (o.precision !== undefined && (DECIMAL.test(x) || DECIMAL.test(y))) {
    // Math-Verify's `float_rounding`: a written decimal and the other value agree once both are rounded.
    const u = constantValue(x);
    const v = constantValue(y);
    if (u !== undefined && v !== undefined) {
      return rounded(u, o.precision) === rounded(v, o.precision);
    }
  }
  // Words ("net", "ten") are text, never products of letters: three letters in a row outside a command.
  if (/(?<![\\a-zA-Z])[a-zA-Z]{3,}/.test(x + " " + y)) return false;
  if (/^[-+]?\d+$/.test(x) && /^[-+]?\d+$/.test(y)) return false; // canonical integers differ
  if (/[a-zA-Z]/.test(x + y) && /^[A-E]$/.test(x) !== /^[A-E]$/.test(y)) {
    // A choice letter equals only the same letter.
    if (/^[A-E]$/.test(x) || /^[A-E]$/.test(y)) return false;
  }
  return numericEqual(x, y, o.tolerance) === true;
}

function equal(
  x: string,
  y: string,
  o: CompareOptions,
  budget: Budget,
  depth: number,
): boolean {
  if (x === y) return true;
  if (depth > MAX_DEPTH || ++budget.steps > MAX_STEPS) return false;
  // Equations: by the chained policy, a named answer is its last side. A list ("x=1, y=2") splits first.
  const listed = splitTop(x, /^,/).length > 1 || splitTop(y, /^,/).length > 1;
  const ex = listed ? [x] : splitTop(x, /^=/);
  const ey = listed ? [y] : splitTop(y, /^=/);
  if (o.chained === "last") {
    if (
      ex.length > 1 && ey.length > 1 && NAME.test(ex[0]!) &&
      NAME.test(ey[0]!)
    ) {
      // Both named: the names must match too ("x=2" is not "y=2").
      return nameOf(ex[0]!) === nameOf(ey[0]!) &&
        equal(ex.at(-1)!, ey.at(-1)!, o, budget, depth + 1);
    }
    if (ex.length === 2 && ey.length === 2) {
      return equationEqual(ex, ey, o, budget, depth);
    }
    if (ex.length > 1 && NAME.test(ex[0]!)) {
      return equal(ex.at(-1)!, y, o, budget, depth + 1);
    }
    if (ey.length > 1 && NAME.test(ey[0]!)) {
      return equal(x, ey.at(-1)!, o, budget, depth + 1);
    }
  }
  if (ex.length === 2 && ey.length === 2) {
    return equationEqual(ex, ey, o, budget, depth);
  }
  if (ex.length > 1 || ey.length > 1) {
    return ex.length === ey.length && ex.length <= 4 &&
      sameItems(ex, ey, true, o, budget, depth);
  }
  // An answer with a decimal comma ("1000,99") against an expected decimal point (Math-Verify's number formats).
  // Never the reverse: an expected "3,5" is the list of 3 and 5 (spaces are gone by now), and 3.5 does not answer it.
  if (DECIMAL_COMMA.test(x) && DECIMAL.test(y)) {
    return atomEqual(x.replace(",", "."), y, o);
  }
  const rx = relation(x);
  const ry = relation(y);
  if (rx || ry) {
    // An interval answer equals an expected inequality on one name; an inequality answer never equals an expected
    // interval (Math-Verify's default `allow_set_relation_comp=False` labels that direction "not equal").
    const range = ry && !rx ? intervalOf(ry) : undefined;
    if (range) {
      const p = parts(x);
      return p.kind === "tuple" && p.brackets === range.brackets &&
        sameItems(p.items, range.items, true, o, budget, depth);
    }
    if (
      rx === undefined || ry === undefined || rx[1].join() !== ry[1].join()
    ) return false;
    if (sameItems(rx[0], ry[0], true, o, budget, depth)) return true;
    // One inequality "l < r" against another: r - l a positive multiple of the other's (x < 1 is -x > -1).
    const [[lx, hx], [ly, hy]] = [rx[0], ry[0]];
    return rx[0].length === 2 && ry[0].length === 2 &&
      proportional(`(${hx})-(${lx})`, `(${hy})-(${ly})`, true) === true;
  }
  const ux = splitTop(x, /^\\cup(?![a-zA-Z])/);
  const uy = splitTop(y, /^\\cup(?![a-zA-Z])/);
  if (ux.length > 1 || uy.length > 1) {
    return sameItems(ux, uy, false, o, budget, depth);
  }
  const px = plusMinus(x);
  const py = plusMinus(y);
  if (px || py) {
    return sameItems(
      px ?? [...setItems(x)],
      py ?? [...setItems(y)],
      false,
      o,
      budget,
      depth,
    );
  }
  const a = parts(x);
  const b = parts(y);
  if (a.kind === "atom" && b.kind === "atom") {
    return atomEqual(a.value, b.value, o);
  }
  if (a.kind === "matrix" || b.kind === "matrix") {
    return a.kind === "matrix" && b.kind === "matrix" &&
      a.rows.length === b.rows.length &&
      a.rows.every((row, k) =>
        sameItems(row, b.rows[k]!, true, o, budget, depth)
      );
  }
  if (a.kind === "atom" || b.kind === "atom") return false;
  if (a.kind === "tuple" || b.kind === "tuple") {
    return a.kind === "tuple" && b.kind === "tuple" &&
      a.brackets === b.brackets &&
      sameItems(a.items, b.items, true, o, budget, depth);
  }
  // Named solutions in groups ("p=5,q=2; p=7,q=2") against tuples ("(5,2),(7,2)"): a set of tuples in name order.
  const ga = namedGroups(a.items);
  const gb = namedGroups(b.items);
  if ((ga === undefined) !== (gb === undefined)) {
    const other = ga ? b.items : a.items;
    if (other.every((item) => parts(item).kind === "tuple")) {
      return sameItems(ga ?? other, gb ?? other, false, o, budget, depth);
    }
  }
  // A bare list of numbers against another keeps its order (MATH labels "10, 4, -2" and "4, 10, -2" different); a
  // list of tuples or named equations, a list that starts with a name ("x = 1, 2, 3": the values of x), or a list
  // against a set, is a set of solutions.
  const tuples = [...a.items, ...b.items].every((item) =>
    parts(item).kind === "tuple" || named(item)
  );
  const solutions = named(a.items[0] ?? "") || named(b.items[0] ?? "");
  return sameItems(
    a.items,
    b.items,
    a.kind === "list" && b.kind === "list" && !tuples && !solutions,
    o,
    budget,
    depth,
  );
}

/** Named equations repeating one cycle of two or more names ("p=5,q=2,p=7,q=2") as tuples ("(5,2)", "(7,2)"). */
function namedGroups(items: readonly string[]): string[] | undefined {
  const sides = items.map((item) => splitTop(item, /^=/));
  if (sides.some((s) => s.length !== 2 || !NAME.test(s[0]!.trim()))) {
    return undefined;
  }
  const names = sides.map((s) => nameOf(s[0]!));
  const k = names.indexOf(names[0]!, 1);
  if (k < 2 || names.length % k !== 0) return undefined;
  if (names.some((n, j) => n !== names[j % k])) return undefined;
  if (new Set(names.slice(0, k)).size !== k) return undefined;
  const groups: string[] = [];
  for (let j = 0; j < items.length; j += k) {
    groups.push(`(${sides.slice(j, j + k).map((s) => s[1]).join(",")})`);
  }
  return groups;
}

function setItems(s: string): readonly string[] {
  const p = parts(s);
  return p.kind === "set" || p.kind === "list" ? p.items : [s];
}

/**
 * Compares two cleaned answers by structure, then value; see `mathEqual` in math_answer.ts for the rules. Bounded:
 * recursion depth {@linkcode MAX_DEPTH}, at most {@linkcode MAX_STEPS} pairwise comparisons.
 */
export function compareAnswers(
  x: string,
  y: string,
  options: CompareOptions,
): boolean {
  return equal(x, y, options, { steps: 0 }, 0);
}
