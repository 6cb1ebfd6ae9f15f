import type { Diagnostic } from "./diagnostic.ts";
import type { SpecNode } from "./source_tree.ts";

/**
 * Reports every mapping key `__proto__`: in a plain object it sets the prototype instead of a key, so
 * the value would vanish from validation and from the spec hash. Part of the shape phase.
 */
export function reservedKeys(root: SpecNode): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (node: SpecNode, path: (string | number)[]) => {
    if (node.kind === "seq") {
      node.items.forEach((n, i) => walk(n, [...path, i]));
    }
    if (node.kind !== "map") return;
    for (const [k, e] of node.entries) {
      if (k === "__proto__") {
        out.push({
          code: "invalid_format",
          severity: "error",
          message: 'Cannot use "__proto__" as a key: the name is reserved',
          file: e.keyLoc.file,
          ...(e.keyLoc.start ? { position: e.keyLoc.start } : {}),
          ...(e.keyLoc.end ? { end: e.keyLoc.end } : {}),
          path: [...path, k],
          hint: "rename the key",
        });
      } else walk(e.node, [...path, k]);
    }
  };
  walk(root, []);
  return out;
}
