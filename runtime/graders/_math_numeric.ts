import { ComputeEngine } from "@cortex-js/compute-engine";

// compute-engine parses LaTeX into MathJSON; it is used only as a parser (`form: "raw"`, so nothing is
// simplified or evaluated at parse time, where an exact `10^{10^{10^{10}}}` could run for ever). The value is
// computed here, in double-precision complex arithmetic, by a walk with bounded depth and node count.
let engine: ComputeEngine | undefined;

/** Longest atom handed to the parser, in characters. */
export const MAX_ATOM = 400;
const MAX_NODES = 400;
const MAX_DEPTH = 40;
/** Above this magnitude a double no longer tells integers apart: such values are "unsure", never equal. */
const MAX_EXACT = 2 ** 50;

type C = readonly [number, number];
type Json = unknown;

class Unsure extends Error {}

function unsure(): never {
  throw new Unsure();
}

const CONSTANTS: Record<string, C> = {
  Pi: [Math.PI, 0],
  pi: [Math.PI, 0],
  e: [Math.E, 0],
  ExponentialE: [Math.E, 0],
  i: [0, 1],
  ImaginaryUnit: [0, 1],
  PositiveInfinity: [Infinity, 0],
  NegativeInfinity: [-Infinity, 0],
};

function add(a: C, b: C): C {
  return [a[0] + b[0], a[1] + b[1]];
}
function mul(a: C, b: C): C {
  if (a[1] === 0 && b[1] === 0) return [a[0] * b[0], 0];
  return [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
}
function div(a: C, b: C): C {
  if (b[1] === 0) {
    if (b[0] === 0) unsure();
    return [a[0] / b[0], a[1] / b[0]];
  }
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
}
function log(a: C): C {
  if (a[0] === 0 && a[1] === 0) unsure();
  return [Math.log(Math.hypot(a[0], a[1])), Math.atan2(a[1], a[0])];
}
function exp(a: C): C {
  const r = Math.exp(a[0]);
  return a[1] === 0 ? [r, 0] : [r * Math.cos(a[1]), r * Math.sin(a[1])];
}
function pow(a: C, b: C): C {
  if (b[1] === 0 && Number.isInteger(b[0]) && Math.abs(b[0]) <= 64) {
    let r: C = [1, 0];
    for (let k = 0; k < Math.abs(b[0]); k++) r = mul(r, a);
    return b[0] < 0 ? div([1, 0], r) : r;
  }
  if (a[1] === 0 && b[1] === 0 && a[0] >= 0) return [a[0] ** b[0], 0];
  if (a[1] === 0 && b[1] === 0 && a[0] < 0) {
    // A power p/q with q odd of a negative number is the real odd root raised to p: (-8)^{1/3} = -2, (-8)^{2/3} = 4,
    // so \sqrt[3]{x}^2 and x^{2/3} agree at every real x.
    for (let q = 1; q <= 15; q += 2) {
      const p = Math.round(b[0] * q);
      if (Math.abs(b[0] * q - p) < 1e-9) {
        return [(p % 2 === 0 ? 1 : -1) * (-a[0]) ** b[0], 0];
      }
    }
  }
  return exp(mul(b, log(a)));
}
function real(a: C): number {
  if (Math.abs(a[1]) > 1e-12 * Math.max(1, Math.abs(a[0]))) unsure();
  return a[0];
}
function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 170) unsure();
  let r = 1;
  for (let k = 2; k <= n; k++) r *= k;
  return r;
}

interface Walk {
  nodes: number;
  readonly values: ReadonlyMap<string, C>;
  /** Terms of finite sums and products evaluated so far, shared by every walk of one comparison. */
  readonly terms?: { count: number };
}

/** Most terms of finite sums and products (`\sum_{k=1}^{10}`) evaluated in one expression, nested ones included. */
const MAX_TERMS = 5000;

/** A real value that is an integer up to rounding noise (`\sqrt{9}`), as that integer; unsure otherwise. */
function integer(a: C): number {
  const r = Math.round(real(a));
  if (Math.abs(a[0] - r) > 1e-9 * Math.max(1, Math.abs(r))) unsure();
  if (Math.abs(r) > MAX_EXACT) unsure();
  return r;
}

/** Floor and ceiling; a value within rounding noise of an integer is that integer (`\lfloor 0.1 \cdot 30 \rfloor` is 3). */
function roundTo(a: C, f: (x: number) => number): C {
  const x = real(a);
  const r = Math.round(x);
  return [Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x)) ? r : f(x), 0];
}

function gcd(a: number, b: number): number {
  let [x, y] = [Math.abs(a), Math.abs(b)];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** `\sum` / `\prod` over an integer range `["Tuple", k, lo, hi]`: the body evaluated with k bound to each integer. */
function series(
  head: "Sum" | "Product",
  args: readonly Json[],
  walk: Walk,
  depth: number,
): C {
  const range = args[1];
  if (
    args.length !== 2 || !Array.isArray(range) || range[0] !== "Tuple" ||
    range.length !== 4 || typeof range[1] !== "string"
  ) unsure();
  const name = range[1] as string;
  const lo = integer(value(range[2], walk, depth + 1));
  const hi = integer(value(range[3], walk, depth + 1));
  const terms = walk.terms ?? { count: 0 };
  if (hi - lo + 1 > MAX_TERMS - terms.count) unsure();
  let acc: C = head === "Sum" ? [0, 0] : [1, 0];
  for (let k = lo; k <= hi; k++) {
    if (++terms.count > MAX_TERMS) unsure();
    const values = new Map(walk.values).set(name, [k, 0]);
    const term = value(args[0], { nodes: 0, values, terms }, depth + 1);
    acc = head === "Sum" ? add(acc, term) : mul(acc, term);
  }
  return acc;
}

function value(node: Json, walk: Walk, depth: number): C {
  if (++walk.nodes > MAX_NODES || depth > MAX_DEPTH) unsure();
  if (typeof node === "number") return [node, 0];
  if (typeof node === "string") {
    const c = CONSTANTS[node] ?? walk.values.get(node);
    if (c === undefined) unsure();
    return c;
  }
  if (node !== null && typeof node === "object" && !Array.isArray(node)) {
    const n = Number((node as { num?: unknown }).num);
    if (Number.isNaN(n)) unsure();
    return [n, 0];
  }
  if (!Array.isArray(node) || typeof node[0] !== "string") unsure();
  const [head, ...args] = node as [string, ...Json[]];
  const v = (k: number) => value(args[k], walk, depth + 1);
  const all = () => args.map((a) => value(a, walk, depth + 1));
  const arity = (n: number) => args.length === n || unsure();
  switch (head) {
    case "Add":
      return all().reduce(add, [0, 0]);
    case "Subtract":
      arity(2);
      return add(v(0), mul([-1, 0], v(1)));
    case "Negate":
      arity(1);
      return mul([-1, 0], v(0));
    case "Multiply":
      return all().reduce(mul, [1, 0]);
    case "InvisibleOperator": {
      // "2\frac{1}{2}" is a mixed number (2.5), never a product; anything else juxtaposed is a product.
      if (
        args.length === 2 && typeof args[0] === "number" &&
        Number.isInteger(args[0]) && Array.isArray(args[1]) &&
        (args[1][0] === "Divide" || args[1][0] === "Rational") &&
        args[1].length === 3 && typeof args[1][1] === "number" &&
        typeof args[1][2] === "number"
      ) return add(v(0), v(1));
      return all().reduce(mul, [1, 0]);
    }
    case "Divide":
    case "Rational":
      arity(2);
      return div(v(0), v(1));
    case "Power":
      arity(2);
      return pow(v(0), v(1));
    case "Square":
      arity(1);
      return pow(v(0), [2, 0]);
    case "Sqrt":
      arity(1);
      return pow(v(0), [0.5, 0]);
    case "Root":
      arity(2);
      return pow(v(0), div([1, 0], v(1)));
    case "Exp":
      arity(1);
      return exp(v(0));
    case "Ln":
      arity(1);
      return log(v(0));
    case "Lg":
      arity(1);
      return div(log(v(0)), [Math.LN10, 0]);
    case "Lb":
      arity(1);
      return div(log(v(0)), [Math.LN2, 0]);
    case "Log":
      if (args.length === 1) return div(log(v(0)), [Math.LN10, 0]);
      arity(2);
      return div(log(v(0)), log(v(1)));
    case "Abs": {
      arity(1);
      const a = v(0);
      return [Math.hypot(a[0], a[1]), 0];
    }
    case "Delimiter":
      arity(1);
      return v(0);
    case "Factorial":
      arity(1);
      return [factorial(real(v(0))), 0];
    case "Binomial": {
      arity(2);
      const n = real(v(0));
      const k = real(v(1));
      if (!Number.isInteger(k) || k < 0 || k > n) unsure();
      return [factorial(n) / (factorial(k) * factorial(n - k)), 0];
    }
    case "Complex":
      arity(2);
      return [real(v(0)), real(v(1))];
    case "Sum":
    case "Product":
      return series(head, args, walk, depth);
    case "Floor":
      arity(1);
      return roundTo(v(0), Math.floor);
    case "Ceil":
      arity(1);
      return roundTo(v(0), Math.ceil);
    case "Max":
    case "Min": {
      if (args.length === 0) unsure();
      const xs = all().map(real);
      return [head === "Max" ? Math.max(...xs) : Math.min(...xs), 0];
    }
    case "GCD":
    case "LCM": {
      if (args.length < 2) unsure();
      const ns = all().map(integer);
      const g = ns.reduce(gcd);
      if (head === "GCD") return [g, 0];
      const l = ns.reduce((
        x,
        y,
      ) => (x === 0 || y === 0 ? 0 : Math.abs(x / gcd(x, y) * y)));
      if (l > MAX_EXACT) unsure();
      return [l, 0];
    }
    case "Mod": {
      arity(2);
      const [a, b] = [integer(v(0)), integer(v(1))];
      if (b === 0) unsure();
      return [((a % b) + b) % b, 0];
    }
    case "Sec":
    case "Csc":
    case "Cot": {
      arity(1);
      const x = real(v(0));
      const f = head === "Sec"
        ? Math.cos
        : head === "Csc"
        ? Math.sin
        : Math.tan;
      return div([1, 0], [f(x), 0]);
    }
    case "Sin":
    case "Cos":
    case "Tan":
    case "Arcsin":
    case "Arccos":
    case "Arctan": {
      arity(1);
      const x = real(v(0));
      const f = {
        Sin: Math.sin,
        Cos: Math.cos,
        Tan: Math.tan,
        Arcsin: Math.asin,
        Arccos: Math.acos,
        Arctan: Math.atan,
      }[head];
      return [f(x), 0];
    }
    default:
      return unsure();
  }
}

/** The free symbols of a MathJSON tree (constants excluded), or undefined past the node budget. */
function symbols(node: Json, out: Set<string>, budget = { left: MAX_NODES }) {
  if (--budget.left < 0) unsure();
  if (typeof node === "string") {
    if (!(node in CONSTANTS)) out.add(node);
  } else if (
    Array.isArray(node) && (node[0] === "Sum" || node[0] === "Product") &&
    Array.isArray(node[2]) && typeof node[2][1] === "string"
  ) {
    // The index of a sum is bound: \sum_{k=1}^{3} k has no free symbol.
    const inner = new Set<string>();
    symbols(node[1], inner, budget);
    inner.delete(node[2][1]);
    for (const a of node[2].slice(2)) symbols(a, inner, budget);
    for (const n of inner) out.add(n);
  } else if (Array.isArray(node)) {
    for (const a of node.slice(1)) symbols(a, out, budget);
  }
}

/**
 * A number in exponent form whose exponent has four or more digits ("68e715769"): compute-engine's parser takes time
 * that grows with the exponent's value on it (half a minute for that one in a `\frac`), and a double holds no such
 * value anyway (past 1e308 it overflows, below 1e-323 it is 0), so it is unsure.
 */
const HUGE_EXPONENT = /\d[eE][-+]?\d{4}/;

/**
 * Whether compute-engine can be handed a text without risk of a stall: its parentheses and square brackets pair up,
 * a square bracket opens only the index of `\sqrt[n]{}` (anywhere else the parser reads a list or an interval, which
 * the evaluator never values), and there are at most {@linkcode MAX_BARS} bars `|`, with brackets nested at most
 * {@linkcode MAX_DEPTH_WITH_BARS} deep when there are any. The parser backtracks over the ways a bracket or a bar
 * could close, in time exponential in their number: `[([([([3,7),1]` (22 characters) took 28 s,
 * `f([f([f([f([f([f([1)` a minute, 24 nested `[[…[1]…]]` over a minute, 32 bars `||…|1` 26 s, and one bar in 12
 * nested parentheses half a second (16: 5 s).
 */
function parseable(latex: string): boolean {
  const open: string[] = [];
  let deepest = 0;
  let bars = 0;
  for (let i = 0; i < latex.length; i++) {
    const c = latex[i]!;
    if (c === "|") bars++;
    else if (c === "(" || c === "[") {
      if (
        c === "[" && !/\\sqrt\s*$/.test(latex.slice(Math.max(0, i - 12), i))
      ) {
        return false;
      }
      open.push(c);
      deepest = Math.max(deepest, open.length);
    } else if (c === ")" || c === "]") {
      if (open.pop() !== (c === ")" ? "(" : "[")) return false;
    }
  }
  return open.length === 0 && bars <= MAX_BARS &&
    (bars === 0 || deepest <= MAX_DEPTH_WITH_BARS);
}
const MAX_BARS = 10;
const MAX_DEPTH_WITH_BARS = 6;

function parse(latex: string): Json {
  if (
    latex.length > MAX_ATOM || HUGE_EXPONENT.test(latex) ||
    !parseable(latex)
  ) unsure();
  engine ??= new ComputeEngine();
  const json = engine.parse(
    latex.replace(/\\lcm(?![a-zA-Z])/g, "\\operatorname{lcm}"),
    { form: "raw" },
  ).json;
  if (JSON.stringify(json).includes("Error")) unsure();
  return json;
}

/** A deterministic sequence of sample points, so a grade never depends on chance. */
function samples(names: readonly string[], count: number): Map<string, C>[] {
  let seed = 0x9e3779b9;
  const next = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    // Both signs, away from 0 and from integers' neighbourhood: sqrt(x^2) is not x.
    const u = seed / 2 ** 32;
    return (u < 0.5 ? -1 : 1) * (0.3 + 4.8 * Math.abs(u - 0.5));
  };
  return Array.from(
    { length: count },
    () => new Map(names.map((n) => [n, [next(), 0] as C])),
  );
}

function close(u: C, v: C, tolerance: number): boolean {
  // NaN, an overflow (10^{1000}) or a real infinity: a double cannot tell these apart, so never "equal" by value
  // (an infinity written the same way on both sides is equal as text before this).
  for (const x of [...u, ...v]) if (!Number.isFinite(x)) unsure();
  if (Math.max(Math.abs(u[0]), Math.abs(v[0])) > MAX_EXACT) unsure();
  const scale = Math.max(1, Math.hypot(u[0], u[1]), Math.hypot(v[0], v[1]));
  return Math.hypot(u[0] - v[0], u[1] - v[1]) <= tolerance * scale;
}

/**
 * Two parsed expressions with the same free symbols, as one evaluation of both per sample point (a caller may stop
 * at any point); undefined when their free symbols differ. `symbolic` when they have free symbols.
 */
function sampled(
  a: string,
  b: string,
): { readonly symbolic: boolean; readonly at: (() => [C, C])[] } | undefined {
  const x = parse(a);
  const y = parse(b);
  const sx = new Set<string>();
  const sy = new Set<string>();
  symbols(x, sx);
  symbols(y, sy);
  if (sx.size !== sy.size || [...sx].some((s) => !sy.has(s))) return undefined;
  return {
    symbolic: sx.size > 0,
    at: samples([...sx].sort(), sx.size === 0 ? 1 : 4).map((values) => () => [
      value(x, { nodes: 0, values }, 0),
      value(y, { nodes: 0, values }, 0),
    ]),
  };
}

/**
 * Whether two expressions with variables are constant non-zero multiples of each other at every sample point (so the
 * equations `a = 0` and `b = 0` have the same solutions): `2x+4y-3` and `4y+2x-3` scaled by -1/2. Undefined when
 * unsure: no variables, a zero, a non-finite value, a parse error or a budget exceeded. With `positive`, the multiple
 * must be a positive real (for inequalities, whose direction a negative factor would turn).
 */
export function proportional(
  a: string,
  b: string,
  positive = false,
): boolean | undefined {
  try {
    const values = sampled(a, b)?.at.map((both) => both());
    if (values === undefined || values.length < 2) return undefined;
    let ratio: C | undefined;
    for (const [u, v] of values) {
      for (const t of [...u, ...v]) if (!Number.isFinite(t)) unsure();
      if (Math.hypot(v[0], v[1]) < 1e-9 || Math.hypot(u[0], u[1]) < 1e-9) {
        unsure();
      }
      const r = div(u, v);
      ratio ??= r;
      if (positive && (Math.abs(r[1]) > 1e-12 || r[0] <= 0)) return false;
      if (
        Math.hypot(r[0] - ratio[0], r[1] - ratio[1]) >
          1e-9 * Math.max(1, Math.hypot(ratio[0], ratio[1]))
      ) {
        return false;
      }
    }
    return true;
  } catch {
    // Unsure, or anything the parser throws on hostile text: never a crash of the grader, never "equal".
    return undefined;
  }
}

/**
 * Whether two LaTeX expressions have the same value: both parsed by compute-engine, then evaluated at the same
 * deterministic sample points for their free symbols (which must be the same on both sides), in complex arithmetic.
 * Undefined when unsure: a parse error, an unknown function, a value too large for a double to tell apart, a budget
 * exceeded. Polynomial identities that hold at several random points hold everywhere with overwhelming probability.
 */
export function numericEqual(
  a: string,
  b: string,
  tolerance: number,
): boolean | undefined {
  try {
    const sample = sampled(a, b);
    if (sample === undefined) return false;
    return sample.at.every((both) =>
      close(
        ...both(),
        // Symbolic identities are checked tighter than the spec's numeric tolerance.
        sample.symbolic ? Math.min(tolerance, 1e-9) : tolerance,
      )
    );
  } catch {
    // Unsure, or anything the parser throws on hostile text: never a crash of the grader, never "equal".
    return undefined;
  }
}

/** The real value of a LaTeX expression without variables; undefined when unsure, complex or not finite. */
export function constantValue(a: string): number | undefined {
  try {
    const x = parse(a);
    const names = new Set<string>();
    symbols(x, names);
    if (names.size > 0) return undefined;
    const [re, im] = value(x, { nodes: 0, values: new Map() }, 0);
    return im === 0 && Number.isFinite(re) && Math.abs(re) <= MAX_EXACT
      ? re
      : undefined;
  } catch {
    return undefined;
  }
}
