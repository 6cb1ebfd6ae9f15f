import { SpecRegex } from "./spec_regex.ts";
/** Declared output extraction, as the spec's `outputs` declare it. */
export type OutputRule =
  | { readonly extract: "last_boxed" }
  | { readonly extract: "final_text" }
  | {
    readonly extract: "regex";
    readonly pattern: string;
    readonly group: number;
  }
  | { readonly extract: "json" };

/** The content of the last `\boxed{...}` (or `\fbox{...}`), with nested braces matched; undefined if none closes. */
export function lastBoxed(text: string): string | undefined {
  // One pass with a stack of open boxes, linear in the text: rescanning to the end from every "\boxed{"
  // was quadratic on a hostile reply ("\boxed{" fifty thousand times).
  const opener = /\\(?:boxed|fbox)\s*\{/y;
  const open: { start: number; depth: number }[] = [];
  let depth = 0;
  let last: { start: number; end: number } | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") {
      opener.lastIndex = i;
      const m = opener.exec(text);
      if (m !== null) {
        depth++;
        open.push({ start: i + m[0].length, depth });
        i += m[0].length - 1;
      } else {
        i++; // an escaped character: "\{" and "\}" are no braces
      }
      continue;
    }
    if (ch === "{") depth++;
    else if (ch === "}") {
      const top = open.at(-1);
      if (top !== undefined && top.depth === depth) {
        open.pop();
        if (last === undefined || top.start > last.start) {
          last = { start: top.start, end: i };
        }
      }
      if (depth > 0) depth--;
    }
  }
  return last === undefined
    ? undefined
    : text.slice(last.start, last.end).trim();
}

/** Index of the bracket opening the one that closes at `end`, or -1 (a backwards depth scan). */
function matchingOpen(text: string, end: number): number {
  const stack: string[] = [];
  for (let i = end; i >= 0; i--) {
    const c = text[i];
    if (c === "}" || c === "]") stack.push(c === "}" ? "{" : "[");
    else if (c === "{" || c === "[") {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

// Agent text is untrusted and can be long: only its tail is searched, and only a few candidates parsed.
const JSON_TAIL = 1 << 16;
const JSON_TRIES = 20;

/** The last JSON object or array in a text (a fenced ```json block first), as compact JSON text. */
function lastJson(text: string): string | undefined {
  const fenced = [...text.matchAll(/```(?:json)?[ \t]*\n([\s\S]*?)```/g)].map((
    m,
  ) => m[1]!);
  for (const candidate of fenced.reverse().slice(0, JSON_TRIES)) {
    try {
      return JSON.stringify(JSON.parse(candidate));
    } catch { /* try the next */ }
  }
  const tail = text.slice(-JSON_TAIL);
  let tries = 0;
  for (let end = tail.length - 1; end >= 0 && tries < JSON_TRIES; end--) {
    const c = tail[end];
    if (c !== "}" && c !== "]") continue;
    const start = matchingOpen(tail, end);
    if (start < 0) continue;
    tries++;
    try {
      return JSON.stringify(JSON.parse(tail.slice(start, end + 1)));
    } catch { /* an inner span may still be JSON */ }
  }
  return undefined;
}

/** Extracts one declared output from a role's final answer; `null` when it is not there. */
export function extractOutput(answer: string, rule: OutputRule): string | null {
  switch (rule.extract) {
    case "final_text":
      return answer;
    case "last_boxed":
      return lastBoxed(answer) ?? null;
    case "json":
      return lastJson(answer) ?? null;
    case "regex": {
      // RE2: linear in the reply whatever the spec's pattern.
      return SpecRegex.compile(rule.pattern).lastGroup(answer, rule.group);
    }
  }
}

/**
 * Extracts every declared output of a role from its final answer, by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractOutputs } from "./extract_output.ts";
 * const outputs = { answer: { extract: "last_boxed" } } as const;
 * assert.deepEqual(extractOutputs(outputs, "So \\boxed{4}."), { answer: "4" });
 * ```
 */
export function extractOutputs(
  rules: Readonly<Record<string, OutputRule>>,
  answer: string,
): Record<string, string | null> {
  const outputs: Record<string, string | null> = {};
  for (const [name, rule] of Object.entries(rules)) {
    outputs[name] = extractOutput(answer, rule);
  }
  return outputs;
}
