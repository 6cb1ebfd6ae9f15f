import { lastBoxed } from "../extract_output.ts";

/**
 * Options of {@linkcode mathEqual}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mathEqual } from "./math_answer.ts";
 * assert.equal(mathEqual("3.14159", "\\pi", { tolerance: 1e-5 }), true);
 * ```
 */
export interface MathEqualOptions {
  /** Numbers are equal when `|a - b| <= tolerance * max(1, |a|, |b|)`: absolute below 1, relative above. @default {1e-6} */
  readonly tolerance?: number;
}

// Agent text is untrusted: longer answers are compared as strings only, which bounds recursion and quadratic scans.
const MAX_EXPRESSION = 1000;
const DEFAULT_TOLERANCE = 1e-6;

/**
 * The answer in a reply: the last `\boxed{...}`, else the text after the last "final answer is" or "the answer is"
 * (up to the end of the sentence or line); null when neither is there. The last-number fallback is deliberately absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractAnswer } from "./math_answer.ts";
 * assert.equal(extractAnswer("so \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
 * assert.equal(extractAnswer("The final answer is $18$. I hope it is correct."), "$18$");
 * assert.equal(extractAnswer("I could not solve it."), null);
 * ```
 */
export function extractAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== undefined) return boxed;
  const re =
    /(?:final answer|the answer) is:?[ \t]*(\$[^$\n]+\$|[^\n]*?)(?:\.(?=\s|$)|$)/gim;
  const last = [...text.matchAll(re)].at(-1)?.[1]?.trim();
  return last ? last : null;
}

/** A plain decimal written without sign noise, leading zeros or trailing fractional zeros: "+023.50" -> "23.5". */
function canonicalNumber(s: string): string {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === "" && !m[3])) return s;
  const int = m[2]!.replace(/^0+/, "") || "0";
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const sign = m[1] === "-" && (int !== "0" || frac !== "") ? "-" : "";
  return sign + int + (frac ? "." + frac : "");
}

/**
 * Normalises an answer for comparison: unwraps `\boxed{}`, drops math delimiters, `\text{}` wrappers, `\left`/`\right`,
 * spacing commands, degree marks (`^\circ`, "°"), percent signs, trailing unit words after a number ("18 degrees"),
 * a leading `x =`, a trailing period, whitespace and thousands separators; `\dfrac`/`\tfrac` become `\frac`; a plain
 * decimal is written canonically ("023" and "23.0" both become "23").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeAnswer } from "./math_answer.ts";
 * assert.equal(normalizeAnswer("\\boxed{023}"), "23");
 * assert.equal(normalizeAnswer("$1,000.0$"), "1000");
 * assert.equal(normalizeAnswer("\\left( \\dfrac{1}{2}, 3 \\right)"), "(\\frac{1}{2},3)");
 * assert.equal(normalizeAnswer("30^\\circ"), "30");
 * ```
 */
export function normalizeAnswer(text: string): string {
  let s = lastBoxed(text) ?? text;
  s = s.replace(/[\u2212\u2013]/g, "-").replace(/°/g, "");
  s = s.replace(/\\[()[\]]|\$/g, "");
  s = s.replace(
    /\\(?:displaystyle|left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])/g,
    "",
  );
  s = s.replace(/\\lbrace(?![a-zA-Z])/g, "\\{").replace(
    /\\rbrace(?![a-zA-Z])/g,
    "\\}",
  );
  s = s.replace(
    /\\(?:text|textbf|textrm|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g,
    " $1 ",
  );
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?/g, "").replace(
    /\\circ(?![a-zA-Z])/g,
    "",
  );
  s = s.replace(/\\[dt]frac(?![a-zA-Z])/g, "\\frac");
  s = s.replace(/\\(?:cdot|times)(?![a-zA-Z])/g, "*").replace(
    /\\div(?![a-zA-Z])/g,
    "/",
  );
  s = s.replace(/\\[,;:! ]|~/g, " ").replace(/\{,\}/g, "");
  // Percent is dropped, not divided by 100: "50\%" equals "50" (the MATH convention; AIME/AMC labels carry no %).
  s = s.replace(/\\?%/g, "");
  s = s.replace(
    /(?<=[\d})\]])\s+(?:[a-zA-Z]+\.?(?:\s+|$))+$/,
    (units) => /\bpi\b/.test(units) ? units : "",
  );
  s = s.trim().replace(/^[a-zA-Z]\s*=\s*/, "").replace(/\s+/g, "").replace(
    /\.$/,
    "",
  );
  if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  return canonicalNumber(s);
}

const PRIMARY_COMMANDS = new Set(["\\frac", "\\sqrt", "\\pi", "pi", "sqrt"]);

/** The value of a numeric expression (numbers, + - * / ^, parentheses and braces, `\frac`, `\sqrt`, `\pi`), or undefined. */
function evaluate(text: string): number | undefined {
  if (text.length > MAX_EXPRESSION) return undefined;
  const source = text.replace(/\\frac(\d)(\d)/g, "\\frac{$1}{$2}").replace(
    /\\sqrt(\d)/g,
    "\\sqrt{$1}",
  );
  const tokens = source.match(/\d+\.?\d*|\.\d+|\\[a-zA-Z]+|[a-zA-Z]+|\S/g) ??
    [];
  let i = 0;
  const isNumber = (t: string | undefined) =>
    t !== undefined && /^[\d.]/.test(t);
  function take(expected?: string): string {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t !== expected)) {
      throw new SyntaxError("unexpected token");
    }
    return t;
  }
  function expr(): number {
    let v = term();
    while (tokens[i] === "+" || tokens[i] === "-") {
      v = take() === "+" ? v + term() : v - term();
    }
    return v;
  }
  function term(): number {
    let v = unary();
    for (;;) {
      const t = tokens[i];
      if (t === "*" || t === "/") {
        v = take() === "*" ? v * unary() : v / unary();
      } else if (t === "(" || t === "{" || PRIMARY_COMMANDS.has(t ?? "")) {
        v *= power();
      } else return v;
    }
  }
  function unary(): number {
    const sign = tokens[i] === "-" ? -1 : tokens[i] === "+" ? 1 : 0;
    if (sign === 0) return power();
    take();
    return sign * unary();
  }
  function power(): number {
    const base = primary();
    if (tokens[i] !== "^") return base;
    take("^");
    return base ** unary();
  }
  function group(): number {
    if (tokens[i] !== "{") return primary();
    take("{");
    const v = expr();
    take("}");
    return v;
  }
  function primary(): number {
    const t = take();
    if (isNumber(t)) return Number(t);
    if (t === "(" || t === "{") {
      const v = expr();
      take(t === "(" ? ")" : "}");
      return v;
    }
    if (t === "\\frac") return group() / group();
    if (t === "\\pi" || t === "pi") return Math.PI;
    if (t === "sqrt") return Math.sqrt(primary());
    if (t === "\\sqrt") {
      if (tokens[i] !== "[") return Math.sqrt(group());
      take("[");
      const n = expr();
      take("]");
      return group() ** (1 / n);
    }
    throw new SyntaxError("unexpected token");
  }
  try {
    const v = expr();
    return i === tokens.length && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A normalised answer's structure: a set (order-insensitive), a tuple or interval (ordered, brackets kept), or one value. */
type Parts =
  | { readonly kind: "set"; readonly items: readonly string[] }
  | {
    readonly kind: "tuple";
    readonly brackets: string;
    readonly items: readonly string[];
  }
  | { readonly kind: "atom"; readonly value: string };

/** Splits at commas outside any bracket; a bracket's kind is not matched, so intervals like "(1,2]" split too. */
function splitTopLevel(s: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      items.push(s.slice(start, i));
      start = i + 1;
    }
  }
  items.push(s.slice(start));
  return items;
}

/** Whether the bracket at 0 closes at the last character (so "(1)(2)" is not wrapped). */
function wraps(s: string, open: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if ("([{".includes(s[i]!)) depth++;
    else if (")]}".includes(s[i]!)) depth--;
    if (depth === 0 && i >= open && i < s.length - 1) return false;
  }
  return depth === 0;
}

function parts(s: string): Parts {
  if (s.startsWith("\\{") && s.endsWith("\\}") && wraps(s.slice(1), 0)) {
    return { kind: "set", items: splitTopLevel(s.slice(2, -2)) };
  }
  const first = s[0] ?? "";
  const last = s.at(-1) ?? "";
  if (
    "([{".includes(first) && ")]}".includes(last) && s.length >= 2 &&
    wraps(s, 0)
  ) {
    const items = splitTopLevel(s.slice(1, -1));
    if (items.length === 1) return parts(items[0]!);
    return first === "{"
      ? { kind: "set", items }
      : { kind: "tuple", brackets: first + last, items };
  }
  const items = splitTopLevel(s);
  // A bare list ("1, 2") is a list of solutions: compared like a set.
  return items.length > 1 ? { kind: "set", items } : { kind: "atom", value: s };
}

function atomEqual(a: string, b: string, tolerance: number): boolean {
  const x = a.replace(/^[a-zA-Z]=/, "");
  const y = b.replace(/^[a-zA-Z]=/, "");
  if (x === y) return true;
  const u = evaluate(x);
  const v = evaluate(y);
  if (u === undefined || v === undefined) return false;
  return Math.abs(u - v) <= tolerance * Math.max(1, Math.abs(u), Math.abs(v));
}

function normalizedEqual(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (a.length > MAX_EXPRESSION || b.length > MAX_EXPRESSION) return false;
  const pa = parts(a);
  const pb = parts(b);
  if (pa.kind === "atom" && pb.kind === "atom") {
    return atomEqual(pa.value, pb.value, tolerance);
  }
  if (pa.kind === "atom" || pb.kind === "atom" || pa.kind !== pb.kind) {
    return false;
  }
  if (pa.items.length !== pb.items.length) return false;
  if (pa.kind === "tuple" && pb.kind === "tuple") {
    return pa.brackets === pb.brackets &&
      pa.items.every((item, k) =>
        normalizedEqual(item, pb.items[k]!, tolerance)
      );
  }
  const unused = [...pb.items];
  return pa.items.every((item) => {
    const k = unused.findIndex((other) =>
      normalizedEqual(item, other, tolerance)
    );
    return k >= 0 && unused.splice(k, 1).length === 1;
  });
}

/**
 * Whether two answers are mathematically the same: equal after {@linkcode normalizeAnswer}, or numerically equal
 * within the tolerance (fractions, `\sqrt`, `\pi` and arithmetic are evaluated by a small parser, never `eval`).
 * Sets (`\{1,2\}`, bare lists "1, 2") compare order-insensitively; tuples and intervals compare element-wise, in
 * order, with the same brackets ("(1,2]" differs from "(1,2)"). Anything else compares as normalised text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mathEqual } from "./math_answer.ts";
 * assert.equal(mathEqual("023", "23.0"), true);
 * assert.equal(mathEqual("0.5", "\\dfrac{1}{2}"), true);
 * assert.equal(mathEqual("\\{2, 1\\}", "\\{1,2\\}"), true);
 * assert.equal(mathEqual("(2, 1)", "(1, 2)"), false);
 * ```
 */
export function mathEqual(
  a: string,
  b: string,
  options: MathEqualOptions = {},
): boolean {
  return normalizedEqual(
    normalizeAnswer(a),
    normalizeAnswer(b),
    options.tolerance ?? DEFAULT_TOLERANCE,
  );
}
