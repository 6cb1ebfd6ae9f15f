import type { MapEntry, SpecNode } from "./source_tree.ts";

function idOf(node: SpecNode): string | undefined {
  if (node.kind !== "map") return undefined;
  const id = node.entries.get("id")?.node;
  return id?.kind === "scalar" && typeof id.value === "string"
    ? id.value
    : undefined;
}

function mergeById(base: SpecNode[], over: SpecNode[]): SpecNode[] | undefined {
  if (![...base, ...over].every((n) => idOf(n) !== undefined)) return undefined;
  // An id twice in one list is a mistake: keep the list as written so duplicate_id reports it.
  for (const list of [base, over]) {
    if (new Set(list.map(idOf)).size !== list.length) return undefined;
  }
  const out = [...base];
  const index = new Map(out.map((b, i) => [idOf(b), i]));
  for (const item of over) {
    const i = index.get(idOf(item));
    if (i === undefined) {
      index.set(idOf(item), out.length);
      out.push(item);
    } else out[i] = mergeNodes(out[i]!, item);
  }
  return out;
}

/**
 * Overlays `over` on `base` for `extends`: mappings merge key by key, lists of objects with `id` merge by
 * id (so a child can change one role), anything else is replaced. Locations come from whichever file set
 * the value.
 */
export function mergeNodes(base: SpecNode, over: SpecNode): SpecNode {
  if (base.kind === "map" && over.kind === "map") {
    const entries = new Map<string, MapEntry>(base.entries);
    for (const [k, e] of over.entries) {
      const prev = entries.get(k);
      entries.set(
        k,
        prev ? { keyLoc: e.keyLoc, node: mergeNodes(prev.node, e.node) } : e,
      );
    }
    return { kind: "map", entries, loc: over.loc };
  }
  if (base.kind === "seq" && over.kind === "seq") {
    const items = mergeById(base.items, over.items);
    if (items) return { kind: "seq", items, loc: over.loc };
  }
  return over;
}
