// deno-lint-ignore-file no-console -- a study script reports on stdout
/**
 * Answers for fuzzing the math grader (`mathEqual`), built from the grammar it reads, and an opt-in study that runs
 * them for a while and reports any input that throws, returns a non-boolean, is asymmetric where the docs say the
 * comparison is symmetric, or is slow for its size:
 *
 * ```sh
 * deno run -A bench/math_fuzz.ts --seconds 60 [--seed 7]
 * ```
 *
 * The bounded CI version is runtime/graders/math_fuzz_test.ts; both use the generators below.
 */
import { parseArgs } from "node:util";
import { mathEqual, normalizeAnswer } from "../runtime/graders/math_answer.ts";

/** A seeded generator: the same seed gives the same answers. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const MINUS = ["-", "\u2212", "\u2013"];
const OPERATORS = [
  "+",
  "-",
  "\\cdot",
  "\\times",
  "/",
  "^",
  "*",
  "\\div",
  "=",
  "<",
  "\\le",
  "\\ge",
  ">",
  "\\pm",
];
const UNITS = [
  "cm",
  "\\text{ cm}",
  "\\text{ units}^2",
  "^\\circ",
  "\\%",
  "%",
  "\\text{ dollars}",
  " meters",
  "°",
];
const VARS = ["x", "y", "n", "a_1", "\\alpha", "AB", "f(x)", "k"];
const PROSE = [
  "The final answer is ",
  "so the answer is ",
  "Answer: ",
  "Therefore we get ",
  "Final Answer: the value is ",
  "",
];

function digits(r: Rng, n: number): string {
  let s = String(1 + r.int(9));
  for (let k = 1; k < n; k++) s += String(r.int(10));
  return s;
}

/** A number in one of the notations the grader reads. */
export function numberText(r: Rng): string {
  const sign = r.chance(0.25) ? r.pick(MINUS) : r.chance(0.05) ? "+" : "";
  switch (r.int(14)) {
    case 0:
      return sign + digits(r, 1 + r.int(4));
    case 1:
      return sign + digits(r, 1 + r.int(3)) + "." + digits(r, 1 + r.int(4));
    case 2: // exponent form, small and huge exponents
      return sign + digits(r, 1) +
        (r.chance(0.5) ? "." + digits(r, 1 + r.int(3)) : "") +
        r.pick(["e", "E"]) +
        r.pick(["", "-", "+"]) +
        String(r.pick([0, 1, 6, 7, 20, 21, 99, 300, 308, 309, 330, 999]));
    case 3: // thousands separators
      return sign + digits(r, 1 + r.int(3)) +
        Array.from(
          { length: 1 + r.int(3) },
          () => r.pick([",", "{,}", "\\,", ",\\!", " "]) + digits(r, 3),
        )
          .join("") +
        (r.chance(0.3) ? "." + digits(r, 2) : "");
    case 4:
      return sign + digits(r, 1 + r.int(3)) + r.pick(UNITS);
    case 5: // leading zeros, trailing zeros
      return sign + "0".repeat(1 + r.int(3)) + digits(r, 2) +
        (r.chance(0.5) ? ".0" + "0".repeat(r.int(3)) : "");
    case 6: // long runs of digits
      return sign + digits(r, 15 + r.int(40)) +
        (r.chance(0.3) ? "." + digits(r, 20) : "");
    case 7:
      return sign + "." + digits(r, 1 + r.int(3));
    case 8: // decimal comma
      return sign + digits(r, 1 + r.int(4)) + "," + digits(r, 1 + r.int(4));
    case 9:
      return sign + digits(r, 1 + r.int(3)) + " " + digits(r, 1) + "/" +
        digits(r, 1);
    case 10:
      return sign +
        r.pick(["\\infty", "\\pi", "e", "i", "0", "00", "0.0", "-0"]);
    case 11:
      return sign + digits(r, 1 + r.int(2)) + "." +
        r.pick(["", "e5", "e-", "E", ".5", "\\overline{3}"]);
    case 12:
      return sign + digits(r, 2) + "e" + digits(r, 4 + r.int(6));
    default:
      return sign + digits(r, 1 + r.int(2));
  }
}

/** An expression of roughly `depth` levels in the grammar of answers. */
export function expression(r: Rng, depth: number): string {
  if (depth <= 0 || r.chance(0.25)) {
    return r.chance(0.6) ? numberText(r) : r.pick(VARS);
  }
  const e = () => expression(r, depth - 1);
  switch (r.int(24)) {
    case 0:
      return `${
        r.pick(["\\frac", "\\dfrac", "\\tfrac", "\\cfrac"])
      }{${e()}}{${e()}}`;
    case 1:
      return r.chance(0.5)
        ? `\\sqrt{${e()}}`
        : `\\sqrt[${1 + r.int(5)}]{${e()}}`;
    case 2:
      return `\\boxed{${e()}}`;
    case 3:
      return `\\{${Array.from({ length: 1 + r.int(4) }, e).join(",")}\\}`;
    case 4:
      return r.pick(["(", "["]) + e() + "," + e() + r.pick([")", "]"]);
    case 5: {
      const n = 1 + r.int(3);
      const m = 1 + r.int(3);
      const env = r.pick(["pmatrix", "bmatrix", "Bmatrix", "matrix"]);
      return `\\begin{${env}}` +
        Array.from({ length: n }, () => Array.from({ length: m }, e).join("&"))
          .join("\\\\") +
        `\\end{${env}}`;
    }
    case 6:
      return e() + r.pick(OPERATORS) + e();
    case 7:
      return "{".repeat(1 + r.int(6)) + e() + "}".repeat(r.int(8)); // nested, often unbalanced
    case 8:
      return e() + r.pick(OPERATORS).repeat(2 + r.int(30)) + e(); // runs of operators
    case 9:
      return `\\left(${e()}\\right)`;
    case 10:
      return `${r.pick(VARS)}=${e()}` + (r.chance(0.3) ? `=${e()}` : "");
    case 11:
      return `${e()}\\cup${e()}`;
    case 12:
      return `${e()}${r.pick(["<", "\\le", "\\ge", ">", "\\ne"])}${
        r.pick(VARS)
      }${r.chance(0.5) ? r.pick(["<", "\\le"]) + e() : ""}`;
    case 13:
      return `\\text{${
        r.pick(["cm", "and", " any text", "(B)", "units", "x"])
      }}` + (r.chance(0.5) ? e() : "");
    case 14:
      return `${e()}^{${e()}}`;
    case 15:
      return `${
        r.pick([
          "\\sin",
          "\\ln",
          "\\log",
          "\\cos",
          "\\tan",
          "\\sec",
          "|",
          "\\lfloor",
        ])
      }${r.pick(["(", "{", " "])}${e()}${r.pick([")", "}", " "])}`;
    case 16:
      return `\\sum_{k=${numberText(r)}}^{${e()}} ${e()}`;
    case 17:
      return `${e()}, ${e()}${r.chance(0.5) ? " and " + e() : ""}`;
    case 18:
      return `$${e()}$` + r.pick(["", " or ", " and ", ", "]) +
        (r.chance(0.5) ? `$${e()}$` : "");
    case 19:
      return `${e()}!`;
    case 20:
      return r.pick(["\\binom", "\\gcd", "\\max"]) + `{${e()}}{${e()}}`;
    case 22: // delimiters that may or may not match
      return r.pick(["|", "\\|", "[", "(", "\\lfloor ", "\\left|", "\\sqrt["]) +
        e() +
        r.pick(["|", "\\|", "]", ")", "\\rfloor ", "\\right|", "]{2}"]);
    case 23:
      return r.pick([
        "\\overline{",
        "\\hat{",
        "\\mathbf{",
        "\\operatorname{lcm}(",
        "\\binom{",
      ]) + e() + "}";
    default:
      return r.pick(PROSE) + e() +
        r.pick(["", ".", ". I hope it is correct.", "\n", " cm"]);
  }
}

/** Two forms of one value (`equal`) or of different values (`!equal`), for answers with known verdicts. */
export function knownPair(r: Rng): [string, string, boolean] {
  const n = 1 + r.int(999);
  const d = 2 + r.int(9);
  const p = 1 + r.int(7);
  const forms = (v: number, num: number, den: number): string[] => [
    String(v),
    v.toFixed(p),
    `\\frac{${num}}{${den}}`,
    `\\dfrac{${num * 2}}{${den * 2}}`,
    `\\boxed{${v}}`,
    `The final answer is $${v}$.`,
    `${v.toExponential()}`,
    `0${v}`,
  ];
  const v = n / d;
  const a = r.pick(forms(v, n, d).filter((s, k) => k !== 1 || Number(s) === v));
  if (r.chance(0.5)) {
    const b = r.pick(
      forms(v, n, d).filter((s, k) => k !== 1 || Number(s) === v),
    );
    return [a, b, true];
  }
  const w = (n + d) / d; // v + 1
  return [
    a,
    r.pick(forms(w, n + d, d).filter((s, k) => k !== 1 || Number(s) === w)),
    false,
  ];
}

/** One generated answer of about `depth` levels. */
export function answer(r: Rng, depth = 3): string {
  return expression(r, depth);
}

/** A hostile answer of size about `n`, from families that stress one scan each; `k` picks the family. */
export function scaled(k: number, n: number): string {
  const FAMILIES: ((n: number) => string)[] = [
    (n) => "1".repeat(n),
    (n) => "{".repeat(n) + "1",
    (n) => "}".repeat(n) + "1",
    (n) => "(".repeat(n) + "1",
    (n) => "\\frac{".repeat(n / 6) + "1",
    (n) => "\\boxed{".repeat(n / 7) + "1",
    (n) => "1,".repeat(n / 2) + "1",
    (n) => "1+".repeat(n / 2) + "1",
    (n) => "-".repeat(n) + "1",
    (n) => "\u2212".repeat(n) + "1",
    (n) => "x=".repeat(n / 2) + "1",
    (n) => "1<".repeat(n / 2) + "1",
    (n) => "\\le".repeat(n / 3) + "1",
    (n) => "\\{".repeat(n / 2) + "1",
    (n) => "$1$ and ".repeat(n / 8) + "2",
    (n) => "The final answer is ".repeat(n / 20) + "3",
    (n) => "answer ".repeat(n / 7) + "3",
    (n) => "\\text{".repeat(n / 6) + "cm",
    (n) => "1 ".repeat(n / 2) + "cm",
    (n) => "1".repeat(n / 2) + "e" + "1".repeat(n / 2),
    (n) => "\\begin{pmatrix}".repeat(n / 15) + "1",
    (n) => "1&".repeat(n / 2) + "1",
    (n) => "\\\\".repeat(n / 2) + "1",
    (n) => "\\sqrt".repeat(n / 5) + "{1}",
    (n) => "a ".repeat(n / 2) + "1",
    (n) => "1 and ".repeat(n / 6) + "1",
    (n) => "\\cup".repeat(n / 4) + "1",
    (n) => "(1,2),".repeat(n / 6) + "(1,2)",
    (n) => "x=1,y=2;".repeat(n / 8) + "x=1",
    (n) => "\\(".repeat(n / 2) + "1",
    (n) => "$".repeat(n) + "1",
    (n) => "1 ".repeat(n / 2) + "\\text{ cm}",
    (n) => "0".repeat(n) + ".5",
    (n) => "1.".repeat(n / 2),
    (n) => " ".repeat(n) + "1",
    (n) => "1" + " ".repeat(n) + "x",
    (n) => "\\left(".repeat(n / 6) + "1",
    (n) => "\\,".repeat(n / 2) + "1",
    (n) => "1,\\!".repeat(n / 4) + "1",
    (n) => "\\pm".repeat(n / 3) + "1",
    (n) => "12 ".repeat(n / 3) + "1/2",
    (n) => "answer is $".repeat(n / 11) + "1",
    (n) => "\\text{a}".repeat(n / 8) + "1",
  ];
  return FAMILIES[k % FAMILIES.length]!(Math.max(1, Math.floor(n)));
}
/** How many families {@linkcode scaled} has. */
export const SCALED_FAMILIES = 43;

export interface Finding {
  readonly kind: "throw" | "non-boolean" | "asymmetric" | "wrong" | "slow";
  readonly a: string;
  readonly b: string;
  readonly detail: string;
}

/** Inputs whose asymmetry the docs describe (decimal comma, interval against inequality), or that mix prose. */
export function symmetricByDocs(a: string, b: string): boolean {
  const s = a + " " + b;
  return !/,|<|>|\\le|\\ge|\\ne|\\in|\$|answer|[A-Za-z]{2,} /.test(s);
}

/**
 * Whether an answer is read whole, so that appending "+1" changes its value: no box, math delimiters or words, whose
 * surroundings are rightly ignored, no relation, list or unit, short of the length budgets, and no product, power,
 * factorial or number of five digits or more, which can reach 10^6 (within the relative tolerance, 10^6 and 10^6 + 1
 * are equal, as documented).
 */
export function selfContained(a: string): boolean {
  return a.length < 300 &&
    !/boxed|fbox|\$|[a-zA-Z]{2,}|[,;=<>%°&!^*]|\\le|\\ge|\\ne|\\pm|\\cup|\\\{|\\\\|\d[eE]|\d[\d\s]{4}/
      .test(a);
}

/** Calls `mathEqual` and records a throw or a non-boolean. */
export function probe(
  a: string,
  b: string,
  findings: Finding[],
): boolean | undefined {
  try {
    const v = mathEqual(a, b);
    if (typeof v !== "boolean") {
      findings.push({ kind: "non-boolean", a, b, detail: String(v) });
    }
    normalizeAnswer(a);
    return v;
  } catch (e) {
    findings.push({ kind: "throw", a, b, detail: String(e).slice(0, 200) });
    return undefined;
  }
}

function timeOf(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

/** Time of the slower direction of `mathEqual` on a hostile family at size n, best of a few. */
export function familyTime(k: number, n: number, tries = 3): number {
  const x = scaled(k, n);
  let best = Infinity;
  for (let t = 0; t < tries; t++) {
    best = Math.min(
      best,
      timeOf(() => mathEqual(x, "1")) + timeOf(() => mathEqual("1", x)),
    );
  }
  return best;
}

if (import.meta.main) {
  let values: { seconds: string; seed: string };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        seconds: { type: "string", default: "60" },
        seed: { type: "string", default: "1" },
      },
    }));
  } catch (e) {
    console.error(
      `Cannot read the arguments: ${
        (e as Error).message.replaceAll("\n", " ")
      }; usage: deno run -A bench/math_fuzz.ts [--seconds N] [--seed N]`,
    );
    Deno.exit(2);
  }
  const whole = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      console.error(
        `Cannot use --${name} "${text}": expected a whole number of at least ${min}; e.g. --seconds 60 --seed 7`,
      );
      Deno.exit(2);
    }
    return n;
  };
  const seconds = whole("seconds", values.seconds, 1);
  const seed = whole("seed", values.seed, 0);
  const r = new Rng(seed);
  const findings: Finding[] = [];
  mathEqual("x", "x+1");
  const unit = Math.max(
    0.01,
    timeOf(() => mathEqual("\\frac{1}{2}+x", "0.5+x")),
  );
  const end = performance.now() + seconds * 1000;
  let calls = 0;
  let worst = { ms: 0, a: "", b: "" };
  while (performance.now() < end) {
    const depth = 1 + r.int(5);
    const [a, b] = r.chance(0.3)
      ? knownPair(r)
      : [answer(r, depth), answer(r, depth)];
    const t = performance.now();
    const ab = probe(a, b, findings);
    const ba = probe(b, a, findings);
    const ms = performance.now() - t;
    calls += 2;
    if (ms > worst.ms) worst = { ms, a, b };
    if (ms > 2000 * unit && ms > 200) {
      findings.push({ kind: "slow", a, b, detail: `${ms.toFixed(0)} ms` });
    }
    if (
      ab !== undefined && ba !== undefined && ab !== ba && symmetricByDocs(a, b)
    ) {
      findings.push({
        kind: "asymmetric",
        a,
        b,
        detail: `${ab} one way, ${ba} the other`,
      });
    }
    selfContained(a) && probe(a, a + "+1", findings) === true &&
      findings.push({
        kind: "wrong",
        a,
        b: a + "+1",
        detail: "equal to itself plus one",
      });
  }
  // Growth: each hostile family at sizes n and 4n (up to the 2,000-character answer limit and past it).
  for (let k = 0; k < SCALED_FAMILIES; k++) {
    for (const n of [400, 1900, 20_000]) {
      const small = familyTime(k, n);
      const big = familyTime(k, n * 4);
      if (big > 12 * Math.max(small, 0.5) && big > 20) {
        findings.push({
          kind: "slow",
          a: scaled(k, n * 4).slice(0, 60) + "…",
          b: "1",
          detail: `family ${k}: ${small.toFixed(1)} ms at ${n}, ${
            big.toFixed(1)
          } ms at ${n * 4}`,
        });
      }
    }
  }
  console.log(
    `${calls} calls in ${seconds} s (seed ${seed}); slowest pair ${
      worst.ms.toFixed(1)
    } ms:`,
  );
  console.log(
    `  ${JSON.stringify(worst.a.slice(0, 120))} vs ${
      JSON.stringify(worst.b.slice(0, 120))
    }`,
  );
  const seen = new Set<string>();
  for (const f of findings) {
    const key = f.kind +
      (f.kind === "slow" ? f.detail.slice(0, 10) : f.a.slice(0, 12));
    if (seen.has(key)) continue;
    seen.add(key);
    console.log(
      `${f.kind}: ${JSON.stringify(f.a.slice(0, 200))} vs ${
        JSON.stringify(f.b.slice(0, 200))
      }: ${f.detail}`,
    );
  }
  console.log(`${findings.length} findings (${seen.size} distinct shown)`);
  if (findings.length > 0) Deno.exit(1);
}
