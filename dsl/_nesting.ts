const BLOCK_SCALAR = /(?:^|[\s:-])[|>][-+1-9]{0,2}[ \t]*(?:#.*)?$/;
const QUOTE_OPENS = new Set([undefined, " ", "\t", "[", "{", ",", ":", "-"]);

/** What `prescan` found over its limits, and where. */
export interface PrescanProblem {
  readonly kind: "depth" | "aliases" | "nodes";
  readonly offset: number;
}

/**
 * Where a YAML text nests deeper than `limits.depth` levels, uses more than `limits.aliases` aliases or
 * holds more than `limits.nodes` values, estimated in one linear pass before parsing: block indentation
 * levels, lines, `- ` and `? ` indicators, flow brackets and commas, and `*alias` tokens outside quotes, comments and block scalars. It over-counts rather than
 * under-counts, so callers give it generous limits.
 */
export function prescan(
  text: string,
  limits: { depth: number; aliases: number; nodes: number },
): PrescanProblem | undefined {
  const limit = limits.depth;
  let aliases = 0;
  let nodes = 0;
  let flow = 0;
  const indents: number[] = [];
  let scalarIndent = -1; // inside a block scalar: the indentation of the line that opened it
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && text[i] === " ") i++;
    const indent = i - start;
    const blank = i === end || text[i] === "#" || text[i] === "\r";
    if (scalarIndent >= 0 && (blank || indent > scalarIndent)) {
      start = end + 1;
      continue;
    }
    scalarIndent = -1;
    if (!blank) {
      if (flow === 0) {
        while (indents.length > 0 && indents.at(-1)! >= indent) indents.pop();
        indents.push(indent);
      }
      let depth = indents.length;
      nodes++;
      while (
        i < end && (text[i] === "-" || text[i] === "?") &&
        (i + 1 === end || text[i + 1] === " ")
      ) {
        depth++;
        nodes++;
        i += 2;
        while (i < end && text[i] === " ") i++;
      }
      if (depth + flow > limit) return { kind: "depth", offset: i };
      if (nodes > limits.nodes) return { kind: "nodes", offset: i };
      let quote = "";
      let j = i;
      for (; j < end; j++) {
        const c = text[j];
        if (quote !== "") {
          if (c === "\\" && quote === '"') j++;
          else if (c === quote) {
            if (quote === "'" && text[j + 1] === "'") j++;
            else quote = "";
          }
          continue;
        }
        if ((c === '"' || c === "'") && QUOTE_OPENS.has(text[j - 1])) {
          quote = c;
        } else if (c === "*" && QUOTE_OPENS.has(text[j - 1])) {
          if (++aliases > limits.aliases) return { kind: "aliases", offset: j };
        } else if (c === "#" && (j === start || text[j - 1] === " ")) break;
        else if (c === "[" || c === "{") {
          if (++flow + depth > limit) return { kind: "depth", offset: j };
        } else if ((c === "]" || c === "}") && flow > 0) flow--;
        else if (c === "," && flow > 0 && ++nodes > limits.nodes) {
          return { kind: "nodes", offset: j };
        }
      }
      if (flow === 0 && BLOCK_SCALAR.test(text.slice(i, j))) {
        scalarIndent = indent;
      }
    }
    start = end + 1;
  }
  return undefined;
}
