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
  const out = [...base];
  const index = new Map<string | undefined, number>();
  base.forEach((b, i) => {
    if (!index.has(idOf(b))) index.set(idOf(b), i);
  });
  const merged = new Set<string | undefined>();
  for (const item of over) {
    const id = idOf(item);
    const i = index.get(id);
    if (i === undefined) {
      index.set(id, out.length);
      merged.add(id);
      out.push(item);
    } else if (merged.has(id)) {
      // The same id twice in the child is a mistake: keep both, so duplicate_id reports the second.
      out.push(i < base.length ? mergeNodes(base[i]!, item) : item);
    } else {
      merged.add(id);
      out[i] = mergeNodes(out[i]!, item);
    }
  }
  return out;
}

/**
 * Overlays `over` on `base` for `extends`: mappings merge key by key, lists of objects with `id` merge by
 * id (so a child can change one role), anything else is replaced; a mapping the child includes with
 * `file://` replaces the parent's whole. Locations come from whichever file set the value.
 */
export function mergeNodes(base: SpecNode, over: SpecNode): SpecNode {
  // A child naming another file:// (a rubric, a schema) means that file, not a blend of it with the parent's.
  if (over.kind === "map" && over.included) return over;
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
