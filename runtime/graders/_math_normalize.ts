import { closingBrace } from "../closing_brace.ts";
/** A piece of answer text and where it stood. */
export interface Span {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Every `\boxed{...}` / `\fbox{...}` in a text, in order, with nested braces matched (linear scan). */
export function allBoxed(text: string): Span[] {
  const found: Span[] = [];
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[0].length;
    const i = closingBrace(text, start);
    if (i < 0) break;
    found.push({
      text: text.slice(start, i - 1).trim(),
      start: m.index,
      end: i,
    });
    re.lastIndex = i;
  }
  return found;
}

/**
 * The math segments of a text (`$$…$$`, `\[…\]`, and on one line `$…$`, `\(…\)`), in order. One pass: the next
 * closing delimiter of each kind is cached, so an unclosed `\(` repeated through a long reply stays linear.
 */
export function mathSegments(text: string): Span[] {
  const found: Span[] = [];
  // For each closer, the last search: [from, found]; it answers any later search from a point in [from, found].
  const cache = new Map<string, readonly [number, number]>();
  const next = (closer: string, from: number): number => {
    const hit = cache.get(closer);
    if (hit && hit[0] <= from && (hit[1] === -1 || hit[1] >= from)) {
      return hit[1];
    }
    const at = text.indexOf(closer, from);
    cache.set(closer, [from, at]);
    return at;
  };
  const dollar = (from: number): number => {
    let at = next("$", from);
    while (at > 0 && text[at - 1] === "\\") at = next("$", at + 1);
    return at;
  };
  const push = (start: number, from: number, to: number, end: number) => {
    const inner = text.slice(from, to).trim();
    if (inner !== "") found.push({ text: inner, start, end });
  };
  for (let i = 0; i < text.length;) {
    const c = text[i];
    const nl = next("\n", i);
    const sameLine = (at: number) => at >= 0 && (nl < 0 || at < nl);
    if (c === "\\") {
      const closer = text[i + 1] === "["
        ? "\\]"
        : text[i + 1] === "("
        ? "\\)"
        : "";
      const at = closer ? next(closer, i + 2) : -1;
      if (at > i + 2 && (closer === "\\]" || sameLine(at))) {
        push(i, i + 2, at, at + 2);
        i = at + 2;
      } else i += 2;
      continue;
    }
    if (c === "$") {
      if (text[i + 1] === "$") {
        const at = dollar(i + 2);
        if (at > i + 2 && text[at + 1] === "$") {
          push(i, i + 2, at, at + 2);
          i = at + 2;
          continue;
        }
      }
      const at = dollar(i + 1);
      if (at > i + 1 && sameLine(at)) {
        push(i, i + 1, at, at + 1);
        i = at + 1;
        continue;
      }
    }
    i++;
  }
  return found;
}

/** Whether only connectives stand between two answers ("and", "or", commas, spacing, math delimiters). */
export function connective(gap: string): boolean {
  return gap.replace(
    /\\[()[\]]|\\q?quad(?![a-zA-Z])|\\text\s*\{\s*(?:and|or|,)?\s*\}|\b(?:and|or)\b|[\s,;.$]|\\[,;!]/g,
    "",
  ) === "";
}

/** Words dropped after a number as units; no single letter is one ("2 n", "2 s" keep their variable). */
const UNIT_WORDS = new Set(
  (
    "units unit degrees degree deg dollars dollar cents cent inches inch feet foot ft yards yard miles mile meters " +
    "meter metres metre cm mm km kg mg lb lbs pounds pound ounces oz seconds second sec minutes minute min " +
    "hours hour hr hrs days day weeks week months month years year mph kmh square sq cubic percent pct percentage " +
    "students people persons ways times points cm2 m2 cm3 m3 liters litres liter ml gallons gallon rad radians"
  ).split(" "),
);

/** The text with its unit words ("cm", "dollars") blanked. */
export function dropUnitWords(text: string): string {
  return text.replace(
    /[a-zA-Z]+/g,
    (w) => UNIT_WORDS.has(w.toLowerCase()) ? " " : w,
  );
}

/** Whether `words` (letters, spaces, ^2, ², periods) are all unit words. */
export function unitsOnly(words: string): boolean {
  const list = words.replace(/\^\s*\{?[23]\}?|[²³.]/g, " ").trim().split(
    /\s+/,
  );
  return list.length > 0 && list[0] !== "" &&
    list.every((w) => UNIT_WORDS.has(w.toLowerCase()));
}

/**
 * The text with each "and"/"or" word, the spacing and one comma before it and the spacing after it, replaced by a
 * comma: what `s.replace(/\s*,?\s*\b(?:and|or)\b\s*\/g, ",")` gives, in one pass. That regex is tried at every
 * position of a run of spaces and scans the run to its end each time: quadratic (a second on 1,600 spaces).
 */
function andOrCommas(s: string): string {
  let out = "";
  let at = 0; // end of the last replacement
  for (const m of s.matchAll(/\b(?:and|or)\b/g)) {
    let start = m.index;
    if (start < at) continue;
    while (start > at && /\s/.test(s[start - 1]!)) start--;
    if (start > at && s[start - 1] === ",") {
      start--;
      while (start > at && /\s/.test(s[start - 1]!)) start--;
    }
    let end = m.index + m[0].length;
    while (end < s.length && /\s/.test(s[end]!)) end++;
    out += s.slice(at, start) + ",";
    at = end;
  }
  return out + s.slice(at);
}

/**
 * Normalises LaTeX answer text for comparison; see {@linkcode normalizeAnswer} in math_answer.ts for the rules.
 * Rows of a matrix keep their separator (`\\`) and cells their `&`.
 */
export function clean(text: string): string {
  let s = text.replace(/[\u2212\u2013]/g, "-");
  // "\\frac" typed with a doubled backslash; after a third backslash it is a row end before "\end".
  s = s.replace(/(?<!\\)\\\\(?=[a-zA-Z])/g, "\\");
  s = s.replace(/\\\\/g, "\u0001"); // matrix row separator, protected from the spacing rules
  s = s.replace(/\\\$/g, " ").replace(/\\[()[\]]|\$/g, " ");
  s = s.replace(
    /\\(?:displaystyle|textstyle|left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])/g,
    "",
  );
  s = s.replace(/\\lbrace(?![a-zA-Z])/g, "\\{").replace(
    /\\rbrace(?![a-zA-Z])/g,
    "\\}",
  );
  s = s.replace(/°|\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ(?![a-zA-Z])/g, "");
  s = s.replace(/\\?%/g, " ");
  // Operator names stay commands (\lcm is read back as \operatorname{lcm} by the evaluator), never words.
  s = s.replace(/\\operatorname\s*\{\s*(gcd|lcm|max|min)\s*\}/g, "\\$1 ");
  // \text{...}: units after a number are dropped, anything else is kept as its content.
  s = s.replace(
    /(^|[\d})\]]\s*)?\\(?:text|textbf|textrm|textit|textnormal|mathrm|mathbf|mathit|mathcal|mathsf|boldsymbol|mbox|operatorname)\s*\{([^{}]*)\}(\^\s*\{?[23]\}?)?/g,
    (
      _m,
      before: string | undefined,
      inner: string,
      power: string | undefined,
      offset: number,
      all: string,
    ) =>
      before !== undefined && before !== "" &&
        /^[a-zA-Z\s.^{}23²³]*$/.test(inner) &&
        (unitsOnly(inner) ||
          /^[\s.]*$/.test(all.slice(offset + _m.length)))
        ? before
        : `${before ?? ""} ${inner} ${power ?? ""}`,
  );
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac");
  s = s.replace(/\\times(?![a-zA-Z])/g, "\\cdot ");
  s = s.replace(/\\(?:leq?slant|leq)(?![a-zA-Z])|≤/g, "\\le ").replace(
    /\\(?:geq?slant|geq)(?![a-zA-Z])|≥/g,
    "\\ge ",
  );
  s = s.replace(/\\lt(?![a-zA-Z])/g, "<").replace(/\\gt(?![a-zA-Z])/g, ">");
  // ",\!" between digits only ever groups them ("11,\! 111"; "56,\!01,\!78,\!95,\!760" in lakhs), never lists.
  s = s.replace(/(?<=\d),\\!\s*(?=\d)/g, "");
  // A mixed number with a space ("3128 1/2") is 3128½, the form the evaluator reads as mixed.
  s = s.replace(/^\s*(-?\d+)\s+(\d+)\s*\/\s*(\d+)\s*$/, "$1\\frac{$2}{$3}");
  s = s.replace(/\\q?quad|\\[,;:! ]|~/g, " ").replace(/\{,\}/g, "");
  s = s.replace(/\\neq?(?![a-zA-Z])|!=|≠/g, "\\ne ").replace(/<=/g, "\\le ")
    .replace(/>=/g, "\\ge ");
  // "x \in [1,2]" is the set; "1 and 2", "1 or 2" and "1; 2" are lists.
  s = s.replace(/^\s*[a-zA-Z](?:_\{?\w+\}?)?\s*\\in(?![a-zA-Z])/, "");
  s = andOrCommas(s);
  s = s.replace(/;/g, ",");
  // "x \approx 11" is 11; "\frac{\sqrt3}{3} \approx 0.577" is the exact form before it.
  s = s.replace(/^\s*[a-zA-Z]\s*\\approx(?![a-zA-Z])/, "");
  s = s.replace(/\\approx(?![a-zA-Z]).*$/s, "");
  // Unit words after a number inside a list or set ("\{35 cm, 4\}").
  s = s.replace(
    /(?<=\d)\s*([a-zA-Z]{2,})(?=\s*(?:,|\\?\}|\)|\]))/g,
    (m, word: string) => UNIT_WORDS.has(word.toLowerCase()) ? "" : m,
  );
  // Trailing unit words after a number or a closing bracket ("18 cm", "5 \text{ units}").
  s = s.replace(
    /(?<=[\d})\]])\s+([a-zA-Z][a-zA-Z\s.^{}23²³]*)$/,
    (m, words: string) => unitsOnly(words) ? "" : m,
  );
  s = s.replace(
    /(?<=\d)([a-zA-Z]+(?:\^?[23²³])?)$/,
    (m, words: string) => m.length >= 2 && unitsOnly(words) ? "" : m,
  );
  // Thousands separators: "1,000", "1 000" (not "32, 349", which is a list).
  const t = s.trim().replace(/\.$/, "");
  if (/^[-+]?[1-9]\d{0,2}(?:(,| )\d{3})(?:\1\d{3})*(\.\d+)?$/.test(t)) {
    s = t.replace(/[, ]/g, "");
  }
  // Whitespace goes, except between a command and a following letter ("\pi r" must not become "\pir").
  s = s.trim().replace(
    /\s+/g,
    (_m, offset: number, all: string) =>
      /\\[a-zA-Z]+$/.test(all.slice(Math.max(0, offset - 30), offset)) &&
        /[a-zA-Z]/.test(all[offset + _m.length] ?? "")
        ? " "
        : "",
  );
  s = s.replace(/\.$/, "");
  const choice = /^\(?([A-E])\)$|^\(([A-E])\)?$/.exec(s);
  if (choice) s = choice[1] ?? choice[2]!;
  return canonicalNumber(s);
}

/** `mantissa` × 10^`exponent` as a plain decimal, by moving the point in the text: ("1.5", -7) -> "0.00000015". */
function shiftPoint(mantissa: string, exponent: number): string {
  const [, sign = "", int = "", frac = ""] =
    /^([-+]?)(\d+)(?:\.(\d+))?$/.exec(mantissa) ?? [];
  const digits = int + frac;
  const point = int.length + exponent;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) {
    return sign + digits + "0".repeat(point - digits.length);
  }
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A plain decimal written without sign noise, leading zeros or trailing fractional zeros: "+023.50" -> "23.5". */
export function canonicalNumber(s: string): string {
  const e = /^([-+]?\d+(?:\.\d+)?)[eE]([-+]?\d{1,3})$/.exec(s);
  if (e) {
    const n = Number(s);
    if (Number.isFinite(n) && Math.abs(n) < 1e21) {
      // Below 1e-6 String(n) is in exponent form again: move the point in the text instead (exact).
      return canonicalNumber(
        String(n).includes("e") ? shiftPoint(e[1]!, Number(e[2])) : String(n),
      );
    }
  }
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === "" && !m[3])) return s;
  const int = m[2]!.replace(/^0+/, "") || "0";
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const sign = m[1] === "-" && (int !== "0" || frac !== "") ? "-" : "";
  return sign + int + (frac ? "." + frac : "");
}
