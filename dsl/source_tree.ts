import type { SourcePosition } from "./diagnostic.ts";

/** Where a node of the merged spec came from; positions are absent for TS-authored specs. */
export interface Loc {
  readonly file: string;
  readonly start?: SourcePosition;
  readonly end?: SourcePosition;
}

/** Maps a 1-based row/column inside a template string to its place in a source file. */
export interface TemplateOrigin {
  readonly file: string;
  map(row: number, column: number): SourcePosition | undefined;
}

/** A YAML scalar value. */
export type Scalar = string | number | boolean | null;

/** A scalar of the spec with its location. */
export interface ScalarNode {
  readonly kind: "scalar";
  value: Scalar;
  readonly loc: Loc;
  /** Set for strings: how positions inside the string map to the file (templates, `${env}`). */
  readonly origin?: TemplateOrigin;
  /** True when the text was pulled in with `file://`: a template, never interpolated. */
  readonly included?: boolean;
  /** Set when `${env...}` changed the text: the shape phase may then read it as the number or boolean it needs. */
  interpolated?: boolean;
}

/** A key of a mapping with the location of the key itself. */
export interface MapEntry {
  readonly keyLoc: Loc;
  node: SpecNode;
}

export interface MapNode {
  readonly kind: "map";
  readonly entries: Map<string, MapEntry>;
  readonly loc: Loc;
  /** True when the mapping was pulled in with `file://` (a rubric, a schema): `extends` replaces it whole. */
  readonly included?: boolean;
}

export interface SeqNode {
  readonly kind: "seq";
  readonly items: SpecNode[];
  readonly loc: Loc;
}

/** One node of the spec tree, which keeps a location for every value through includes and merges. */
export type SpecNode = ScalarNode | MapNode | SeqNode;

/** Converts a spec tree to plain data for schema validation. */
export function toValue(node: SpecNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toValue);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) {
        Object.defineProperty(out, k, {
          value: toValue(e.node),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}

/** Builds a position-less spec tree from plain data (TS-authored specs). */
export function fromValue(value: unknown, file: string): SpecNode {
  const loc: Loc = { file };
  const onPath = new Set<object>();
  const convert = (v: unknown, path: (string | number)[]): SpecNode => {
    if (v !== null && typeof v === "object") {
      if (onPath.has(v)) throw new CyclicValueError(path);
      onPath.add(v);
      try {
        if (Array.isArray(v)) {
          return {
            kind: "seq",
            items: v.map((x, i) => convert(x, [...path, i])),
            loc,
          };
        }
        const entries = new Map<string, MapEntry>();
        for (const [k, x] of Object.entries(v)) {
          if (x !== undefined) {
            entries.set(k, { keyLoc: loc, node: convert(x, [...path, k]) });
          }
        }
        return { kind: "map", entries, loc };
      } finally {
        onPath.delete(v);
      }
    }
    if (
      typeof v === "string" || typeof v === "number" ||
      typeof v === "boolean" || v === null
    ) {
      return { kind: "scalar", value: v, loc };
    }
    return { kind: "scalar", value: String(v), loc };
  };
  return convert(value, []);
}

/** Thrown by `fromValue` for data that contains itself; `path` is where the cycle closes. */
export class CyclicValueError extends Error {
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[]) {
    super("Cannot convert a value that contains itself");
    this.name = "CyclicValueError";
    this.path = path;
  }
}

/** The node at a key path, or the nearest existing ancestor with `exact: false`. */
export function nodeAt(
  root: SpecNode,
  path: readonly (string | number)[],
): { node: SpecNode; keyLoc?: Loc; exact: boolean } {
  let node = root;
  let keyLoc: Loc | undefined;
  for (const part of path) {
    if (
      node.kind === "map" && typeof part === "string" && node.entries.has(part)
    ) {
      const e = node.entries.get(part)!;
      keyLoc = e.keyLoc;
      node = e.node;
    } else if (
      node.kind === "seq" && typeof part === "number" && part >= 0 &&
      part < node.items.length
    ) {
      keyLoc = undefined;
      node = node.items[part]!;
    } else {
      return keyLoc ? { node, keyLoc, exact: false } : { node, exact: false };
    }
  }
  return keyLoc ? { node, keyLoc, exact: true } : { node, exact: true };
}
