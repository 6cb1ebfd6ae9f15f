// @ts-types="@types/picomatch"
import picomatch from "picomatch";
import { SPEC_BUDGETS } from "./budgets.ts";

// Bounded, so a long-running process compiling many specs does not grow them without limit.
const MAX_CACHED = 5000;
const cache = new Map<string, (path: string) => boolean>();
// globsOverlap calls isGlob for every produces x consumes pair; scanning each time dominated compile.
const globCache = new Map<string, boolean>();

/**
 * True when the path contains glob syntax.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isGlob } from "./glob.ts";
 * assert.equal(isGlob("*.pkl"), true);
 * ```
 */
export function isGlob(pattern: string): boolean {
  let glob = globCache.get(pattern);
  if (glob === undefined) {
    glob = picomatch.scan(pattern).isGlob;
    if (globCache.size >= MAX_CACHED) globCache.clear();
    globCache.set(pattern, glob);
  }
  return glob;
}

/**
 * Whether `path` matches `pattern` (a literal path matches only itself): the glob semantics of file contracts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globMatch } from "./glob.ts";
 * assert.equal(globMatch("*.pkl", "X_test.pkl"), true);
 * ```
 */
export function globMatch(pattern: string, path: string): boolean {
  // picomatch's regex backtracks exponentially on "*a*a*a*a*a*a*a*a*c" against a long name that does not
  // match; for globs of plain characters, * and ?, the product automaton (a superset) rules that out first.
  const plain = pattern.replace(/^(\.\/)+/, "");
  if (
    PLAIN_GLOB.test(plain) && globWithinBudget(plain) &&
    !matchesLiteral(variantsOf(plain)[0]!, path.replace(/^(\.\/)+/, ""))
  ) return false;
  let m = cache.get(pattern);
  if (!m) {
    m = picomatch(pattern, { dot: true });
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(pattern, m);
  }
  return m(path);
}

/** Globs the automaton reads exactly enough to rule out a match: no classes, braces, extglobs or escapes. */
const PLAIN_GLOB = /^[^[\](){}!+@\\]*$/;

type Token =
  | { readonly kind: "char"; readonly c: string }
  | { readonly kind: "one" } // ?, or a [class] (over-approximated as any one character)
  | { readonly kind: "star"; readonly deep: boolean }; // * within a folder, ** across folders

/**
 * Whether a glob is within SPEC_BUDGETS: at most `globWildcards` wildcards and `globVariants` variants once
 * `{a,b}` alternatives are expanded, so comparing globs stays cheap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globWithinBudget } from "./glob.ts";
 * assert.equal(globWithinBudget("{a,b}".repeat(20)), false);
 * ```
 */
export function globWithinBudget(pattern: string): boolean {
  let wildcards = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "?" || c === "[") wildcards++;
    else if (c === "*") {
      wildcards++;
      while (pattern[i + 1] === "*") i++;
    }
  }
  if (wildcards > SPEC_BUDGETS.globWildcards) return false;
  let variants = 1;
  for (const m of pattern.matchAll(/\{([^{}]*)\}/g)) {
    variants *= m[1]!.split(",").length;
    if (variants > SPEC_BUDGETS.globVariants) return false;
  }
  return true;
}

/** Expands `{a,b}` alternatives (no nesting), so each variant is a plain glob. */
function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  const head = pattern.slice(0, m.index),
    tail = pattern.slice(m.index + m[0].length);
  return m[1]!.split(",").flatMap((alt) => expandBraces(head + alt + tail));
}

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      const deep = pattern[i + 1] === "*";
      if (deep) i++;
      // "**/" also matches nothing at all: the slash belongs to the star.
      if (deep && pattern[i + 1] === "/") i++;
      out.push({ kind: "star", deep });
    } else if (c === "?") out.push({ kind: "one" });
    else if (c === "[" && pattern.indexOf("]", i + 1) > i) {
      out.push({ kind: "one" });
      i = pattern.indexOf("]", i + 1);
    } else if (c === "\\" && i + 1 < pattern.length) {
      out.push({ kind: "char", c: pattern[++i]! });
    } else out.push({ kind: "char", c });
  }
  return out;
}

const SPECIAL = /[*?[\]{}()!+@\\]/;

/** What globsOverlap reads of one pattern, computed once. */
interface Facts {
  readonly glob: boolean;
  readonly within: boolean;
  /** Literal text before the first special character, and after the last ("./" dropped). */
  readonly head: string;
  readonly tail: string;
}

const factCache = new Map<string, Facts>();

function factsOf(pattern: string): Facts {
  let f = factCache.get(pattern);
  if (!f) {
    const p = pattern.replace(/^(\.\/)+/, "");
    const first = p.search(SPECIAL);
    let last = p.length;
    while (last > 0 && !SPECIAL.test(p[last - 1]!)) last--;
    f = {
      glob: isGlob(pattern),
      within: globWithinBudget(pattern),
      head: first < 0 ? p : p.slice(0, first),
      tail: p.slice(last),
    };
    if (factCache.size >= MAX_CACHED) factCache.clear();
    factCache.set(pattern, f);
  }
  return f;
}

/** A cheap necessary condition for an overlap: literal heads agree, and literal tails agree. */
function affixesAgree(a: Facts, b: Facts): boolean {
  return (a.head.startsWith(b.head) || b.head.startsWith(a.head)) &&
    (a.tail.endsWith(b.tail) || b.tail.endsWith(a.tail));
}

// Reused by matchesLiteral: it runs for every consumed path against every produced glob.
let scratch: [Uint8Array, Uint8Array] = [
  new Uint8Array(64),
  new Uint8Array(64),
];

/** Whether a token list matches a literal path: the automaton run on one string, O(path × tokens). */
function matchesLiteral(tokens: readonly Token[], path: string): boolean {
  const n = tokens.length;
  if (scratch[0].length <= n) {
    scratch = [new Uint8Array(2 * n + 2), new Uint8Array(2 * n + 2)];
  }
  let [cur, next] = scratch;
  cur.fill(0, 0, n + 1);
  const close = (set: Uint8Array) => {
    // A star may match nothing: reaching it reaches the token after it too.
    for (let i = 0; i < n; i++) {
      if (set[i] && tokens[i]!.kind === "star") set[i + 1] = 1;
    }
  };
  cur[0] = 1;
  close(cur);
  for (let k = 0; k < path.length; k++) {
    const c = path[k];
    next.fill(0, 0, n + 1);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!cur[i]) continue;
      const t = tokens[i]!;
      if (t.kind === "star") {
        if (t.deep || c !== "/") next[i] = 1, any = true;
      } else if (t.kind === "one" ? c !== "/" : t.c === c) {
        next[i + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

const variantCache = new Map<string, Token[][]>();

/** A glob's `{a,b}` variants, tokenized, cached like compiled matchers. */
function variantsOf(pattern: string): Token[][] {
  let v = variantCache.get(pattern);
  if (!v) {
    v = expandBraces(pattern).map(tokenize);
    if (variantCache.size >= MAX_CACHED) variantCache.clear();
    variantCache.set(pattern, v);
  }
  return v;
}

/** Whether two token lists match a common string: a search over pairs of positions (product automaton). */
function intersect(a: readonly Token[], b: readonly Token[]): boolean {
  const seen = new Set<number>();
  const width = b.length + 1;
  const stack: [number, number][] = [[0, 0]];
  const eats = (star: Token & { kind: "star" }, t: Token) =>
    star.deep || t.kind !== "char" || t.c !== "/";
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const key = i * width + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    const ta = a[i], tb = b[j];
    if (ta?.kind === "star") {
      stack.push([i + 1, j]); // the star matches nothing more
      if (tb && eats(ta, tb)) stack.push([i, j + 1]); // the star swallows b's next token
    }
    if (tb?.kind === "star") {
      stack.push([i, j + 1]);
      if (ta && eats(tb, ta)) stack.push([i + 1, j]);
    }
    if (ta && tb && ta.kind !== "star" && tb.kind !== "star") {
      const same = ta.kind === "one" || tb.kind === "one"
        ? (ta.kind !== "char" || ta.c !== "/") &&
          (tb.kind !== "char" || tb.c !== "/")
        : ta.c === tb.c;
      if (same) stack.push([i + 1, j + 1]);
    }
  }
  return false;
}

/**
 * Whether some file could match both patterns: exact for literals and for globs made of `*`, `**`, `?` and
 * `{a,b}`; a `[class]` counts as any one character, so overlaps are never missed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globsOverlap } from "./glob.ts";
 * assert.equal(globsOverlap("model_*.pkl", "*_v2.pkl"), true);
 * ```
 */
export function globsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = factsOf(a), fb = factsOf(b);
  const ga = fa.glob, gb = fb.glob;
  if (!ga && !gb) return false;
  // Past the budget the schema has refused the spec already; answer "may overlap" without the work.
  if (!fa.within || !fb.within) return true;
  if (!affixesAgree(fa, fb)) return false;
  // picomatch's regex backtracks on "*a*a*a*a*a*a*a*a*c" against a long path; the automaton does not.
  if (!ga) return variantsOf(b).some((y) => matchesLiteral(y, a));
  if (!gb) return variantsOf(a).some((x) => matchesLiteral(x, b));
  return variantsOf(a).some((x) => variantsOf(b).some((y) => intersect(x, y)));
}
