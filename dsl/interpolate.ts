import type { Diagnostic, SourcePosition } from "./diagnostic.ts";
import type { ScalarNode, SpecNode } from "./source_tree.ts";

/** Looks up an environment variable; `undefined` when unset. */
export type EnvLookup = (name: string) => string | undefined;

const PATTERN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const REF = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Maps an index of the scalar's value to its file by row and column, so a `|` block's later lines map too. */
function mapIndex(
  node: ScalarNode,
  index: number,
): SourcePosition | undefined {
  const text = String(node.value);
  const row = text.slice(0, index).split("\n").length;
  return node.origin?.map(row, index - text.lastIndexOf("\n", index - 1));
}

function positionIn(
  node: ScalarNode,
  index: number,
): SourcePosition | undefined {
  return mapIndex(node, index) ?? node.loc.start;
}

function interpolateScalar(
  node: ScalarNode,
  path: (string | number)[],
  env: EnvLookup,
  out: Diagnostic[],
): void {
  const value = node.value;
  if (typeof value !== "string" || !value.includes("${")) return;
  const report = (
    code: Diagnostic["code"],
    message: string,
    index: number,
    length: number,
    hint: string,
  ) => {
    const position = positionIn(node, index);
    const end = mapIndex(node, index + length);
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
  node.value = value.replace(
    PATTERN,
    (match: string, body: string | undefined, index: number) => {
      if (match === "$${") return "${";
      if (body === undefined) {
        report(
          "invalid_interpolation",
          'Cannot interpolate an unclosed "${": no closing "}"',
          index,
          2,
          "close it with }, or write $${ for a literal ${",
        );
        return match;
      }
      if (body.includes("${")) {
        report(
          "invalid_interpolation",
          `Cannot interpolate "${match}}": defaults cannot contain another \${...}`,
          index,
          match.length + 1,
          "use a literal default, or set the variable",
        );
        return match;
      }
      const ref = REF.exec(body);
      if (!ref) {
        report(
          "invalid_interpolation",
          `Cannot interpolate "${match}": only \${env.NAME} and \${env.NAME:-default} are supported`,
          index,
          match.length,
          "write $${ for a literal ${",
        );
        return match;
      }
      const name = ref[1]!;
      const found = env(name);
      if (found !== undefined && found !== "") return found;
      if (ref[2] !== undefined) return ref[2];
      report(
        "undefined_env_var",
        `Cannot interpolate environment variable "${name}": it is not set`,
        index,
        match.length,
        `export ${name}=..., or give a default: \${env.${name}:-value}`,
      );
      return match;
    },
  );
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
