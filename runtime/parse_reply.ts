/** A model reply split into its reasoning and its answer. */
export interface SplitReply {
  /** Text inside `<think>` blocks, or before a lone `</think>` (templates that open the block in the prompt). */
  readonly reasoning: string;
  /** Everything else: what the role said. */
  readonly answer: string;
}

/** One fenced code block of the answer. */
export interface CodeBlock {
  /** The fence's info string, lower-cased (`python`, `ts`, ...); empty when none. */
  readonly lang: string;
  readonly code: string;
}

/**
 * Splits reasoning from the answer. A lone `</think>` (Qwen3 thinking templates put `<think>` in the
 * prompt, reference/mappa-method.md §2) makes everything before it reasoning.
 */
export function splitReasoning(text: string): SplitReply {
  const reasoning: string[] = [];
  let rest = text;
  const lone = /^(?:(?!<think>)[\s\S])*?<\/think>/.exec(rest);
  if (lone) {
    reasoning.push(lone[0].slice(0, -"</think>".length));
    rest = rest.slice(lone[0].length);
  }
  rest = rest.replace(
    /<think>([\s\S]*?)(<\/think>|$)/g,
    (_m, inner: string) => {
      reasoning.push(inner);
      return "";
    },
  );
  return {
    reasoning: reasoning.map((r) => r.trim()).filter((r) => r !== "").join(
      "\n\n",
    ),
    answer: rest.trim(),
  };
}

const FENCE =
  /^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*\n([\s\S]*?)^[ \t]*\1[ \t]*$/gm;

/** Every fenced code block of a text, in order. */
export function codeBlocks(text: string): CodeBlock[] {
  const out: CodeBlock[] = [];
  for (const m of text.matchAll(FENCE)) {
    out.push({ lang: m[2]!.toLowerCase(), code: m[3]!.replace(/\n$/, "") });
  }
  return out;
}

const LANGUAGE_TAGS: Readonly<Record<string, readonly string[]>> = {
  python: ["python", "py", "python3"],
  typescript: ["typescript", "ts", "javascript", "js", "deno"],
};

/** The tool language a fence tag selects, if any. */
export function languageOf(tag: string): "python" | "typescript" | undefined {
  for (const [lang, tags] of Object.entries(LANGUAGE_TAGS)) {
    if (tags.includes(tag)) return lang as "python" | "typescript";
  }
  return undefined;
}
