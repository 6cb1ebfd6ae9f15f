import type { Diagnostic, SourcePosition } from "./diagnostic.ts";
import type { ScalarNode, SpecNode } from "./source_tree.ts";

/** Looks up an environment variable; `undefined` when unset. */
export type EnvLookup = (name: string) => string | undefined;

/** Problems reported per string at most: the rest are the same mistake again. */
const MAX_REPORTS = 10;
const REF = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Maps indexes of a scalar's value to its file by row and column, so a `|` block's later lines map too. */
class Positions {
  readonly #node: ScalarNode;
  readonly #text: string;
  // Indexes only grow while one scalar is scanned: count rows from the last one, so positions are linear.
  #index = 0;
  #row = 1;
  #rowStart = 0;

  constructor(node: ScalarNode, text: string) {
    this.#node = node;
    this.#text = text;
  }

  map(index: number): SourcePosition | undefined {
    if (index < this.#index) {
      this.#index = 0;
      this.#row = 1;
      this.#rowStart = 0;
    }
    for (let i = this.#index; i < index; i++) {
      if (this.#text.charCodeAt(i) === 10) {
        this.#row++;
        this.#rowStart = i + 1;
      }
    }
    this.#index = index;
    return this.#node.origin?.map(this.#row, index - this.#rowStart + 1);
  }
}

function interpolateScalar(
  node: ScalarNode,
  path: (string | number)[],
  env: EnvLookup,
  out: Diagnostic[],
): void {
  const value = node.value;
  if (typeof value !== "string" || !value.includes("${")) return;
  const positions = new Positions(node, value);
  const report = (
    code: Diagnostic["code"],
    message: string,
    index: number,
    length: number,
    hint: string,
  ) => {
    const position = positions.map(index) ?? node.loc.start;
    const end = positions.map(index + length);
    out.push({
      code,
      severity: "error",
      message,
      file: node.loc.file,
      ...(position ? { position } : {}),
      ...(end ? { end } : {}),
      path,
      hint,
    });
  };
  // One left-to-right scan with indexOf: a regex retried from every "${" was quadratic on "${${${...".
  let text = "";
  let from = 0;
  let close = value.indexOf("}");
  let reported = 0;
  for (
    let i = value.indexOf("$");
    i >= 0 && i < value.length;
    i = value.indexOf("$", i)
  ) {
    if (value.startsWith("$${", i)) {
      text += value.slice(from, i) + "${";
      from = i += 3;
      continue;
    }
    if (!value.startsWith("${", i)) {
      i++;
      continue;
    }
    while (close >= 0 && close < i) close = value.indexOf("}", close + 1);
    const end = close;
    let replacement: string | undefined;
    if (end < 0) {
      if (reported++ < MAX_REPORTS) {
        report(
          "invalid_interpolation",
          'Cannot interpolate an unclosed "${": no closing "}"',
          i,
          2,
          "close it with }, or write $${ for a literal ${",
        );
      }
      // No "}" follows: nothing after this can be a reference either.
      break;
    }
    const match = value.slice(i, end);
    const body = value.slice(i + 2, end);
    if (body.includes("${")) {
      if (reported++ < MAX_REPORTS) {
        report(
          "invalid_interpolation",
          `Cannot interpolate "${match}}}": defaults cannot contain another \${...}`,
          i,
          match.length + 2,
          "use a literal default, or set the variable",
        );
      }
    } else {
      const ref = REF.exec(body);
      if (!ref) {
        if (reported++ < MAX_REPORTS) {
          report(
            "invalid_interpolation",
            `Cannot interpolate "${match}}": only \${env.NAME} and \${env.NAME:-default} are supported`,
            i,
            match.length + 1,
            "write $${ for a literal ${",
          );
        }
      } else {
        const name = ref[1]!;
        const found = env(name);
        if (found !== undefined && found !== "") replacement = found;
        else if (ref[2] !== undefined) replacement = ref[2];
        else if (reported++ < MAX_REPORTS) {
          report(
            "undefined_env_var",
            `Cannot interpolate environment variable "${name}": it is not set`,
            i,
            match.length + 1,
            `export ${name}=..., or give a default: \${env.${name}:-value}`,
          );
        }
      }
    }
    if (replacement !== undefined) {
      text += value.slice(from, i) + replacement;
      from = end + 1;
    }
    i = end + 1;
  }
  node.value = from === 0 ? value : text + value.slice(from);
}

/** YAML 1.2 core typing of a scalar's text: integers, floats and booleans; anything else stays text. */
export function typed(text: string): string | number | boolean {
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) {
    return Number(text);
  }
  return text;
}

/** Replaces `${env.NAME}` and `${env.NAME:-default}` in every string of the tree, in place. */
export function interpolate(root: SpecNode, env: EnvLookup): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (node: SpecNode, path: (string | number)[]) => {
    if (node.kind === "scalar") {
      // Text pulled in with file:// is a template, not YAML: it is never interpolated.
      if (node.included) return;
      const before = node.value;
      interpolateScalar(node, path, env, out);
      if (before !== node.value) node.interpolated = true;
    } else if (node.kind === "seq") {
      node.items.forEach((n, i) => walk(n, [...path, i]));
    } else for (const [k, e] of node.entries) walk(e.node, [...path, k]);
  };
  walk(root, []);
  return out;
}
