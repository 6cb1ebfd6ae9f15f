import {
  allBoxed,
  connective,
  dropUnitWords,
  mathSegments,
  type Span,
  unitsOnly,
} from "./_math_normalize.ts";

/** Longest text searched for its answer, in characters: every scan below is linear in it. */
export const MAX_TEXT = 100_000;

// Math-Verify's plain numbers (huggingface/Math-Verify src/math_verify/parser.py `lazy_expr_regex`): thousands groups,
// a decimal point or comma, and expressions such as 2/3 built from them. Every repetition consumes an operator, so
// matching is linear.
const NUM = String.raw`(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+)`;
const OPERAND = String.raw`\(?-?${NUM}\)?`;
const TOKEN = String.raw`-?${OPERAND}(?:[ \t]*[-+*/×÷^][ \t]*${OPERAND})*`;
/** A number or expression after the start, a space or "=", optionally after a currency sign. */
const TOKENS = new RegExp(String.raw`(?<![^\s=])[$€£¥₹]?(${TOKEN})`, "g");
const TOKEN_AT = new RegExp(String.raw`[$€£¥₹]?(${TOKEN})`, "y");

type Kind = "box" | "segment" | "token";

interface Candidate {
  readonly kind: Kind;
  readonly span: Span;
}

/** A plain-text number or expression written as LaTeX: "12,000,023" -> "12000023", "2,74" -> "2.74", "2 × 3" -> "2\cdot 3". */
function tokenLatex(token: string): string {
  let s = token.trim();
  for (;;) {
    const open = s.split("(").length - s.split(")").length;
    if (open > 0 && s.startsWith("(")) s = s.slice(1);
    else if (open < 0 && s.endsWith(")")) s = s.slice(0, -1);
    else break;
  }
  return s
    .replace(/\d{1,3}(?:,\d{3})+/g, (m) => m.replaceAll(",", ""))
    .replace(/(?<=\d),(?=\d)/g, ".")
    .replace(/[*×]/g, "\\cdot ")
    .replace(/÷/g, "\\div ");
}

/** The text with `spans` blanked out (same length, so positions still hold). */
function blank(text: string, spans: readonly Span[]): string {
  let out = "";
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + " ".repeat(s.end - s.start);
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Math left unreadable: `$ … $` and `\( … \)` across lines (they are not segments). Plain numbers are not taken from
 * it (Math-Verify labels "Answer $\n 9\n$" not equal to 9). One pass; each search starts after the last.
 */
function broken(plain: string): Span[] {
  const found: Span[] = [];
  for (const [open, close] of [["$", "$"], ["\\(", "\\)"]] as const) {
    let at = plain.indexOf(open);
    while (at >= 0) {
      const end = plain.indexOf(close, at + open.length);
      if (end < 0) break;
      found.push({ text: "", start: at, end: end + close.length });
      at = plain.indexOf(open, end + close.length);
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** The number or expression token starting at `at`, or undefined. */
function tokenAt(text: string, at: number): Candidate | undefined {
  TOKEN_AT.lastIndex = at;
  const m = TOKEN_AT.exec(text);
  if (!m || !standsAlone(text, at + m[0].length)) return undefined;
  const start = at + m[0].length - m[1]!.length;
  return {
    kind: "token",
    span: { text: tokenLatex(m[1]!), start, end: at + m[0].length },
  };
}

/** The words (two or more letters) of a text outside its math and LaTeX commands. */
function words(text: string, segments: readonly Span[]): string[] {
  return blank(text, segments).replace(
    /\\[a-zA-Z]+(?:\{[a-zA-Z*|]*\}){0,2}/g,
    " ",
  ).match(/[a-zA-Z]{2,}/g) ?? [];
}

/** Whether a plain number ends where it stands: not glued to a letter ("3ab", "3\pi"), unless to a unit ("99m²"). */
function standsAlone(plain: string, end: number): boolean {
  const after = plain.slice(end, end + 16);
  if (/^[\\^_{]/.test(after)) return false;
  const word = /^[a-zA-Z]+/.exec(after)?.[0];
  return word === undefined || /^[²³]/.test(after.slice(word.length)) ||
    unitsOnly(word);
}

/** For each span of `inner` (sorted, disjoint), the index of the span of `outer` (sorted, disjoint) holding it, or -1. */
function holders(inner: readonly Span[], outer: readonly Span[]): number[] {
  let k = 0;
  return inner.map((s) => {
    while (k < outer.length && outer[k]!.end < s.end) k++;
    const o = outer[k];
    return o !== undefined && o.start <= s.start && s.end <= o.end ? k : -1;
  });
}

/** The rightmost candidate, by end, then by start (the longer one). */
function rightmost(list: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of list) {
    if (
      !best || c.span.end > best.span.end ||
      (c.span.end === best.span.end && c.span.start < best.span.start)
    ) best = c;
  }
  return best;
}

/** The first candidate of `sorted` (by start) that starts in [from, to]. */
function firstFrom(
  sorted: readonly Candidate[],
  from: number,
  to: number,
): Candidate | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.span.start < from) lo = mid + 1;
    else hi = mid;
  }
  const c = sorted[lo];
  return c && c.span.start <= to ? c : undefined;
}

/**
 * The answers a text gives, as Math-Verify finds them (parser.py `extract_target_from_pred`), rightmost first within
 * each tier: (1) its `\boxed{}` and "final answer … is X" statements; (2) the first value within 50 characters after
 * "answer"; (3) in prose, its math segments and plain numbers. The chosen answer comes with the answers of its kind
 * just before it that only connectives separate ("$1$, $2$ and $3$"). Undefined when the text is not prose and has no
 * box (the whole text is the answer) or when nothing is found.
 */
export function findAnswers(text: string): Span[] | undefined {
  const boxes = allBoxed(text);
  const segments = mathSegments(text);
  const said = words(text, segments);
  // Math between words ("$x$ or $y$") is read as prose; plain numbers only in real prose (two words, or a long one),
  // so "3ab" and "1 or 2" stay whole answers.
  const prose = said.length > 0;
  const wordy = said.length >= 2 || said.some((w) => w.length >= 4);
  if (boxes.length === 0 && !prose) return undefined;
  const holder = holders(boxes, segments);
  const boxesOutside = boxes.filter((_, k) => holder[k] === -1);
  const outside = blank(
    text,
    [...segments, ...boxesOutside].sort((a, b) => a.start - b.start),
  );
  const plain = blank(outside, broken(outside));
  const tokens: Candidate[] = wordy
    ? [...plain.matchAll(TOKENS)]
      .filter((m) => standsAlone(plain, m.index + m[0].length))
      .map((m) => {
        const start = m.index + m[0].length - m[1]!.length;
        return {
          kind: "token" as const,
          span: { text: tokenLatex(m[1]!), start, end: m.index + m[0].length },
        };
      })
    : [];
  const boxSegments = new Set(holder);
  const segs: Candidate[] = segments
    .filter((_, k) => !boxSegments.has(k))
    .map((span) => ({ kind: "segment" as const, span }));
  const boxed: Candidate[] = boxes.map((span) => ({
    kind: "box" as const,
    span,
  }));
  const values = [...segs, ...tokens, ...boxed].sort((a, b) =>
    a.span.start - b.span.start
  );

  const statements: Candidate[] = [];
  for (const m of text.matchAll(/final answer/gi)) {
    const from = m.index + m[0].length;
    // Math-Verify's `final answer.{0,100}?\s+is\:?\s*`: the first "is" within 100 characters that a value follows.
    const window = text.slice(from, from + 120);
    for (const w of window.matchAll(/\s+is\b:?\s*/g)) {
      if (w.index > 100) break;
      const at = from + w.index + w[0].length;
      const value = firstFrom(values, at, at + 1) ?? tokenAt(text, at);
      if (value) {
        statements.push(value);
        break;
      }
    }
  }
  let chosen = rightmost([...boxed, ...statements]);
  if (!chosen) {
    const anchored: Candidate[] = [];
    for (const m of text.matchAll(/answer/gi)) {
      const from = m.index + m[0].length;
      const value = firstFrom(values, from, from + 50);
      if (value) anchored.push(value);
    }
    chosen = rightmost(anchored) ??
      (prose ? rightmost([...segs, ...tokens]) : undefined);
  }
  if (!chosen) return undefined;
  const same = chosen.kind === "box"
    ? boxed
    : chosen.kind === "segment"
    ? segs
    : tokens;
  const k = same.indexOf(chosen);
  if (k < 0) return [chosen.span];
  // Boxes in one math segment are one answer whatever stands between them (Math-Verify reads the segment whole).
  const together = (j: number) =>
    chosen.kind === "box" && holder[j] !== -1 && holder[j] === holder[j + 1];
  // Joined to its neighbour: in one math segment (boxes), or only connectives between ("3 or 4", "3 cm and 4 cm").
  const joined = (j: number) =>
    together(j) ||
    connective(
      dropUnitWords(text.slice(same[j]!.span.end, same[j + 1]!.span.start)),
    );
  let first = k;
  while (first > 0 && joined(first - 1)) first--;
  // Forward too: "the answer: 3 or 4" and "final answer is $3$ or $4$" hedge as much as "\boxed{3} or \boxed{4}".
  let last = k;
  while (last + 1 < same.length && joined(last)) last++;
  return same.slice(first, last + 1).map((c) => c.span);
}
