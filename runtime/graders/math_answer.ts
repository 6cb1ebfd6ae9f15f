import { lastBoxed } from "../extract_output.ts";
import { clean } from "./_math_normalize.ts";
import { findAnswers, MAX_TEXT } from "./_math_extract.ts";
import { compareAnswers } from "./_math_compare.ts";

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
  /**
   * Numbers are equal when `|a - b| <= tolerance * max(1, |a|, |b|)`: absolute below 1, relative above. Two integers
   * are compared exactly; expressions with variables are checked at sample points with `min(tolerance, 1e-9)`.
   * @default {1e-6}
   */
  readonly tolerance?: number;
  /**
   * Several `\boxed{}` in one text. `"all"`: boxes joined only by connectives ("and", "or", ",", spacing, math
   * delimiters) are read as one set of answers, so `\boxed{3} or \boxed{4}` equals `\{3,4\}` and never the single
   * answer 4 (hedging earns nothing); boxes with other text between them give the last one; identical boxes are one
   * answer. `"last"`: only the last box counts.
   * @default {"all"}
   */
  readonly boxed?: "all" | "last";
  /**
   * Equalities. `"last"`: when the left side is a name (`x`, `x_1`, `f(x)`, `AB`, `(p,q)`), the answer is the last side
   * of the chain, so `x = 5+5+1 = 11` is 11 and `(p,q)=(3,2)` is `(3,2)`. `"whole"`: an equation is compared as an
   * equation (same number of sides, each side equal).
   * @default {"last"}
   */
  readonly chained?: "last" | "whole";
  /**
   * Decimal places at which a written decimal is compared with the other value, both rounded (Math-Verify's
   * `float_rounding`): with 2, `0.33` equals `\frac{1}{3}`. Unset, decimals compare by `tolerance`.
   * @default {undefined}
   */
  readonly precision?: number | undefined;
}

/** Longest answer compared, in characters: anything longer is not equal (it runs on untrusted agent text). */
export const MAX_ANSWER = 2000;
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

/**
 * Normalises an answer for comparison: unwraps the last `\boxed{}`, drops math delimiters, `\$`, `\left`/`\right`,
 * spacing commands, degree marks (`^\circ`, "°"), percent signs (the MATH convention: "50\%" equals "50"), unit words
 * after a number ("18 cm", "5\text{ units}"; only listed unit words, so "2 n" keeps its variable), `\text{}` wrappers,
 * everything after `\approx`, whitespace, a trailing period and thousands separators; `\dfrac`/`\tfrac`/`\cfrac`
 * become `\frac`; a choice "(B)" becomes "B"; a plain decimal is written canonically ("023", "23.0" and "2.3e1" all
 * become "23").
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
  return clean(lastBoxed(text) ?? text).replaceAll("\u0001", "\\\\").replace(
    /^[a-zA-Z]=(?![^=]*=)/,
    "",
  );
}

/**
 * The answer a text gives ({@linkcode findAnswers}: boxes and "final answer is" statements, then a value after
 * "answer", then in prose its last math segment or number; otherwise the whole text). Under the "all" policy, answers
 * joined only by connectives ("and", ",", spacing) are one set; otherwise the last one counts.
 */
function answerOf(text: string, boxed: "all" | "last"): string | undefined {
  if (text.length > MAX_TEXT) return undefined;
  const found = findAnswers(text);
  if (found === undefined) {
    return text.length > MAX_ANSWER ? undefined : clean(text);
  }
  const spans = boxed === "last" ? found.slice(-1) : found;
  if (spans.some((span) => span.text.length > MAX_ANSWER)) return undefined;
  const distinct = [...new Set(spans.map((span) => clean(span.text)))];
  const answer = distinct.length === 1
    ? distinct[0]!
    : `\\{${distinct.join(",")}\\}`;
  return answer.length > MAX_ANSWER ? undefined : answer;
}

/**
 * Whether two answers are mathematically the same. Both are normalised ({@linkcode normalizeAnswer}), then compared
 * by structure: sets (`\{1,2\}`, `{1,2}`) order-insensitively; tuples, intervals and bare lists ("10, 4, 2") in
 * order with the same brackets; unions (`\cup`) as sets of their parts; `a \pm b` as the set of `a+b` and `a-b`;
 * matrices (`pmatrix`, `bmatrix`, `matrix`, `array`, and sums and products of them) cell by cell; inequalities after
 * turning `>`/`\ge` chains around (so `x > 3` equals `3 < x`), and an interval answer against an expected inequality
 * on one name (`(3,\infty)` for `x > 3`, never the reverse); a decimal comma against a decimal point; equations by
 * the `chained` policy. Prose is searched for its answer as Math-Verify does (docs/math_grading.md). Single values are equal when their text is, or when
 * compute-engine parses both and they agree numerically (complex arithmetic, at several deterministic sample points
 * for their variables, which must be the same on both sides). Anything the comparison is unsure of — a parse error,
 * an unknown function, a value too large to tell apart, an input over {@linkcode MAX_ANSWER} characters or past the
 * evaluation budget — is not equal: a false "equal" would reward a wrong answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mathEqual } from "./math_answer.ts";
 * assert.equal(mathEqual("023", "23.0"), true);
 * assert.equal(mathEqual("0.5", "\\dfrac{1}{2}"), true);
 * assert.equal(mathEqual("\\{2, 1\\}", "\\{1,2\\}"), true);
 * assert.equal(mathEqual("(2, 1)", "(1, 2)"), false);
 * assert.equal(mathEqual("(r+5)^2", "(r+5)(r+5)"), true);
 * assert.equal(mathEqual("x = 5+5+1 = 11", "11"), true);
 * assert.equal(mathEqual("2 n", "2"), false);
 * ```
 */
export function mathEqual(
  a: string,
  b: string,
  options: MathEqualOptions = {},
): boolean {
  const boxed = options.boxed ?? "all";
  const x = answerOf(a, boxed);
  const y = answerOf(b, boxed);
  if (x === undefined || y === undefined) return false;
  return compareAnswers(x, y, {
    tolerance: options.tolerance ?? DEFAULT_TOLERANCE,
    chained: options.chained ?? "last",
    precision: options.precision,
  });
}
