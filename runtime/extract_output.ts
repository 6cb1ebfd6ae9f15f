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
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let found: string | undefined;
  for (const m of text.matchAll(re)) {
    let depth = 1;
    const start = m.index! + m[0].length;
    let i = start;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === "\\" && i + 1 < text.length) {
        i++;
        continue;
      }
      if (text[i] === "{") depth++;
      else if (text[i] === "}") depth--;
    }
    if (depth === 0) found = text.slice(start, i - 1).trim();
  }
  return found;
}

/** The last JSON object or array in a text (a fenced ```json block first), as compact JSON text. */
function lastJson(text: string): string | undefined {
  const fenced = [...text.matchAll(/```(?:json)?\s*\n([\s\S]*?)```/g)].map((
    m,
  ) => m[1]!);
  for (const candidate of fenced.reverse()) {
    try {
      return JSON.stringify(JSON.parse(candidate));
    } catch { /* try the next */ }
  }
  for (let end = text.length; end > 0; end--) {
    const c = text[end - 1];
    if (c !== "}" && c !== "]") continue;
    const open = c === "}" ? "{" : "[";
    for (
      let start = text.lastIndexOf(open, end - 1);
      start >= 0;
      start = text.lastIndexOf(open, start - 1)
    ) {
      try {
        return JSON.stringify(JSON.parse(text.slice(start, end)));
      } catch { /* widen */ }
      if (start === 0) break;
    }
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
      const matches = [...answer.matchAll(new RegExp(rule.pattern, "g"))];
      const last = matches.at(-1);
      return last?.[rule.group] ?? null;
    }
  }
}
