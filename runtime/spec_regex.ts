import { RE2 } from "re2-wasm";

/**
 * A regular expression from a spec, run on agent text (stop patterns, `regex` outputs and graders, loop
 * conditions, coach checks) by RE2 (npm `re2-wasm`, Google's engine compiled to WebAssembly): matching
 * takes time linear in the text whatever the pattern, so `(a+)+$` on a hostile reply cannot hang a run.
 * RE2 has no lookaround and no backreferences; such a pattern is refused when compiled. JS's RegExp
 * backtracks: on 30 `a`s and a `b`, `(a+)+$` already takes seconds.
 */
export class SpecRegex {
  readonly source: string;
  readonly #re: RE2;
  readonly #global: RE2;

  private constructor(source: string, re: RE2, global: RE2) {
    this.source = source;
    this.#re = re;
    this.#global = global;
  }

  /**
   * Compiles `pattern` (cached: a spec's patterns are few, and RE2 objects live in WebAssembly memory).
   * Throws `SyntaxError` naming the pattern for one RE2 cannot run.
   *
   * @example
   * ```ts
   * import { SpecRegex } from "./spec_regex.ts";
   * const re = SpecRegex.compile("answer: (\\d+)");
   * if (re.lastGroup("answer: 1, answer: 22", 1) !== "22") throw new Error("wrong match");
   * ```
   */
  static compile(pattern: string): SpecRegex {
    const cached = CACHE.get(pattern);
    if (cached) return cached;
    let re: RE2;
    let global: RE2;
    try {
      re = new RE2(pattern, "u");
      global = new RE2(pattern, "gu");
    } catch (e) {
      throw new SyntaxError(
        `Cannot use the pattern /${pattern}/: ${
          e instanceof Error
            ? e.message.replace(/^Invalid regular expression: \/.*\/u: /, "")
            : e
        } (patterns run on RE2: no lookaround, no backreferences)`,
      );
    }
    const compiled = new SpecRegex(pattern, re, global);
    if (CACHE.size >= CACHE_SIZE) CACHE.delete(CACHE.keys().next().value!);
    CACHE.set(pattern, compiled);
    return compiled;
  }

  /** Whether the pattern matches somewhere in `text`. */
  test(text: string): boolean {
    this.#re.lastIndex = 0;
    return this.#re.test(text);
  }

  /** Capture group `group` of the last match in `text`, or null when there is none (or the group did not take part). */
  lastGroup(text: string, group: number): string | null {
    const re = this.#global;
    re.lastIndex = 0;
    let last: ReturnType<RE2["exec"]> = null;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      last = m;
      if ((m[0] ?? "") === "") re.lastIndex++;
    }
    return last?.[group] ?? null;
  }
}

const CACHE_SIZE = 256;
const CACHE = new Map<string, SpecRegex>();
