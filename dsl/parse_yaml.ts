import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  Scalar as YScalar,
  visit,
} from "yaml";
import { SPEC_BUDGETS } from "./budgets.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { prescan } from "./_nesting.ts";
import { SourceText } from "./source_text.ts";
import type {
  Loc,
  MapEntry,
  Scalar,
  SpecNode,
  TemplateOrigin,
} from "./source_tree.ts";

/** The result of parsing one YAML source: a tree when there were no errors. */
export interface ParsedYaml {
  readonly root?: SpecNode;
  readonly diagnostics: Diagnostic[];
}

/** What the files of one spec may expand to, shared by every file it reads; see SPEC_BUDGETS. */
export interface ExpandBudget {
  chars: number;
  nodes: number;
  aliasNodes: number;
  /** Set once the over_budget diagnostic is out, so a spec gets one. */
  reported: boolean;
}

/** A fresh budget for one compile. */
export function newBudget(): ExpandBudget {
  return { chars: 0, nodes: 0, aliasNodes: 0, reported: false };
}

/** Charges characters and values to the budget; false once it is spent. */
export function charge(
  budget: ExpandBudget,
  chars: number,
  nodes: number,
): boolean {
  budget.chars += chars;
  budget.nodes += nodes;
  return budget.chars <= SPEC_BUDGETS.expandedChars &&
    budget.nodes <= SPEC_BUDGETS.nodes;
}

/**
 * Parses YAML text into a spec tree that keeps a location for every key and value.
 *
 * Syntax errors and duplicate keys are reported as diagnostics; nothing is thrown.
 */
export function parseYaml(
  source: SourceText,
  budget: ExpandBudget = newBudget(),
): ParsedYaml {
  // yaml's parser recurses once per level and spends ~10-25 µs per value or alias: refuse before parsing.
  const over = prescan(source.text, {
    depth: 4 * SPEC_BUDGETS.depth,
    aliases: SPEC_BUDGETS.aliases,
    nodes: SPEC_BUDGETS.nodes,
  });
  if (over !== undefined) {
    return {
      diagnostics: [{
        code: "over_budget",
        severity: "error",
        message: over.kind === "depth"
          ? `Cannot parse YAML nested over ${
            4 * SPEC_BUDGETS.depth
          } levels deep: a spec nests values at most ${SPEC_BUDGETS.depth} levels`
          : over.kind === "aliases"
          ? `Cannot parse YAML with more than ${SPEC_BUDGETS.aliases} aliases (*name) in one file: no spec needs that`
          : `Cannot parse YAML with more than ${SPEC_BUDGETS.nodes} values in one file: no spec needs that`,
        file: source.file,
        position: source.positionAt(over.offset),
        path: [],
        hint: over.kind === "depth"
          ? "flatten the structure; a spec's values are a few levels deep"
          : over.kind === "aliases"
          ? "write the values out, or share them through extends"
          : "keep data (datasets, long lists) in files the spec names, not in the spec",
      }],
    };
  }
  const doc = parseDocument(source.text, {
    uniqueKeys: false,
    prettyErrors: false,
    merge: true,
    strict: true,
  });
  const diagnostics: Diagnostic[] = [];
  const lines = new Set<number>();
  for (const err of doc.errors) {
    const position = source.positionAt(err.pos[0]);
    // One error per line: yaml often reports the same mistake several ways.
    if (lines.has(position.line)) continue;
    lines.add(position.line);
    const first = err.code === "MULTIPLE_DOCS"
      ? "the file holds more than one document (a line ---); a spec is one document"
      : err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
        .replace(/\.+$/, "")
        .replace(/; please use YAML\.parseAllDocuments\(\)$/, "")
        .replace(
          /^Maximum call stack size exceeded$/,
          "values are nested too deeply",
        );
    const lineText = source.lineText(position.line);
    diagnostics.push({
      code: "yaml_syntax",
      severity: "error",
      message: `Cannot parse YAML: ${first}`,
      file: source.file,
      position,
      end: source.positionAt(Math.max(err.pos[1], err.pos[0] + 1)),
      path: [],
      hint: lineText.includes("${") && /[{[]/.test(lineText)
        ? 'inside { } or [ ], quote a value that holds ${...}: write "${env.X:-1}"'
        : "check indentation and quoting near this line; YAML indents with spaces, never tabs",
    });
    if (diagnostics.length >= 10) break;
  }
  if (diagnostics.length > 0) return { diagnostics };
  const converter = new Converter(source, doc, diagnostics, budget);
  const root = doc.contents === null
    ? { kind: "scalar" as const, value: null, loc: converter.loc([0, 0]) }
    : converter.convert(doc.contents as Node, []);
  return diagnostics.length > 0 ? { diagnostics } : { root, diagnostics };
}

/** Offset in `value` of a 1-based row and column. */
function offsetOf(value: string, row: number, column: number): number {
  let offset = 0;
  for (let r = 1; r < row; r++) {
    const nl = value.indexOf("\n", offset);
    if (nl < 0) break;
    offset = nl + 1;
  }
  return Math.min(value.length, offset + Math.max(0, column - 1));
}

// Aliases can expand exponentially ("billion laughs"); yaml's own toJS caps them the same way.
const MAX_ALIAS_NODES = SPEC_BUDGETS.aliasNodes;
const MAX_DEPTH = SPEC_BUDGETS.depth;

class Converter {
  readonly #source: SourceText;
  readonly #doc: Document;
  readonly #diagnostics: Diagnostic[];
  readonly #resolving = new Set<Node>();
  readonly #budget: ExpandBudget;
  #tooDeep = false;

  constructor(
    source: SourceText,
    doc: Document,
    diagnostics: Diagnostic[],
    budget: ExpandBudget,
  ) {
    this.#source = source;
    this.#doc = doc;
    this.#diagnostics = diagnostics;
    this.#budget = budget;
  }

  // yaml's Alias.resolve walks the whole document for each alias; one walk serves them all.
  #targets?: Map<Node, Node | undefined>;

  #targetOf(alias: Node & { source: string }): Node | undefined {
    if (!this.#targets) {
      const targets = new Map<Node, Node | undefined>();
      const anchors = new Map<string, Node>();
      visit(this.#doc, {
        Node: (_key, node) => {
          if (isAlias(node)) targets.set(node, anchors.get(node.source));
          else if (node.anchor) anchors.set(node.anchor, node);
        },
      });
      this.#targets = targets;
    }
    return this.#targets.get(alias);
  }

  loc(range: readonly number[] | null | undefined): Loc {
    const start = range?.[0] ?? 0;
    const end = range?.[1] ?? start;
    return {
      file: this.#source.file,
      start: this.#source.positionAt(start),
      end: this.#source.positionAt(end),
    };
  }

  convert(node: Node, path: (string | number)[]): SpecNode {
    if (path.length > MAX_DEPTH) {
      if (!this.#tooDeep) {
        this.#tooDeep = true;
        this.#error(
          node.range,
          `Cannot nest values more than ${MAX_DEPTH} levels deep: no spec needs that`,
          path,
          "over_budget",
        );
      }
      return { kind: "scalar", value: null, loc: this.loc(node.range) };
    }
    const budget = this.#budget;
    const chars = isScalar(node) && typeof node.value === "string"
      ? node.value.length
      : 0;
    const aliased = this.#resolving.size > 0 &&
      ++budget.aliasNodes > MAX_ALIAS_NODES;
    if (aliased || !charge(budget, chars, 1)) {
      if (!budget.reported) {
        budget.reported = true;
        this.#error(
          node.range,
          aliased
            ? `Cannot expand YAML aliases: they expand to more than ${MAX_ALIAS_NODES} values`
            : budget.nodes > SPEC_BUDGETS.nodes
            ? `Cannot expand the spec: it holds more than ${SPEC_BUDGETS.nodes} values once aliases and includes are expanded`
            : `Cannot expand the spec: it holds more than ${SPEC_BUDGETS.expandedChars} characters once aliases and includes are expanded`,
          path,
          "over_budget",
        );
      }
      return { kind: "scalar", value: null, loc: this.loc(node.range) };
    }
    if (isAlias(node)) {
      const target = this.#targetOf(node);
      if (!target || this.#resolving.has(target)) {
        return { kind: "scalar", value: null, loc: this.loc(node.range) };
      }
      this.#resolving.add(target);
      try {
        return this.convert(target, path);
      } finally {
        this.#resolving.delete(target);
      }
    }
    if (isScalar(node)) return this.#scalar(node);
    if (isSeq(node)) {
      return {
        kind: "seq",
        items: node.items.map((item, i) =>
          this.convert(item as Node, [...path, i])
        ),
        loc: this.loc(node.range),
      };
    }
    if (isMap(node)) {
      const entries = new Map<string, MapEntry & { merged?: boolean }>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (keyNode !== null && !isScalar(keyNode)) {
          this.#error(
            keyNode.range,
            "Cannot use a collection as a mapping key: keys must be plain strings",
            path,
          );
          continue;
        }
        const key = keyNode === null ? "" : String((keyNode as YScalar).value);
        const keyLoc = this.loc(keyNode?.range);
        if (key === "<<" && pair.value !== null) {
          this.#mergeInto(entries, pair.value as Node, path);
          continue;
        }
        const valueNode = pair.value as Node | null;
        const value: SpecNode = valueNode === null
          ? {
            kind: "scalar",
            value: null,
            loc: {
              file: keyLoc.file,
              ...(keyLoc.end ? { start: keyLoc.end, end: keyLoc.end } : {}),
            },
          }
          : this.convert(valueNode, [...path, key]);
        const previous = entries.get(key);
        if (previous && !previous.merged) {
          this.#diagnostics.push({
            code: "duplicate_key",
            severity: "error",
            message: `Cannot use key "${key}" twice in one mapping`,
            file: this.#source.file,
            ...(keyLoc.start ? { position: keyLoc.start } : {}),
            ...(keyLoc.end ? { end: keyLoc.end } : {}),
            path: [...path, key],
            related: [{
              file: this.#source.file,
              ...(previous.keyLoc.start
                ? { position: previous.keyLoc.start }
                : {}),
              message: `key "${key}" is first set here`,
            }],
            hint: "remove one of the two, or merge their contents",
          });
        }
        entries.set(key, { keyLoc, node: value });
      }
      return { kind: "map", entries, loc: this.loc(node.range) };
    }
    return { kind: "scalar", value: null, loc: this.loc(null) };
  }

  #mergeInto(
    entries: Map<string, MapEntry & { merged?: boolean }>,
    value: Node,
    path: (string | number)[],
  ): void {
    const sources = isSeq(value) ? value.items as Node[] : [value];
    for (const src of sources) {
      const converted = this.convert(src, path);
      if (converted.kind !== "map") {
        this.#error(
          src.range,
          "Cannot merge a non-mapping with <<: the merged value must be a mapping",
          path,
        );
        continue;
      }
      for (const [k, e] of converted.entries) {
        if (!entries.has(k)) entries.set(k, { ...e, merged: true });
      }
    }
  }

  #scalar(node: YScalar): SpecNode {
    const raw = node.value;
    let value: Scalar;
    if (
      raw === null || typeof raw === "string" || typeof raw === "number" ||
      typeof raw === "boolean"
    ) value = raw;
    else if (typeof raw === "bigint") value = Number(raw);
    else value = String(raw);
    const loc = this.loc(node.range);
    if (typeof value !== "string") return { kind: "scalar", value, loc };
    return {
      kind: "scalar",
      value,
      loc,
      origin: this.#origin(node, value),
    };
  }

  #origin(node: YScalar, value: string): TemplateOrigin {
    const source = this.#source;
    const begin = node.range?.[0] ?? 0;
    const end = node.range?.[1] ?? begin;
    const start = source.positionAt(begin);
    const file = source.file;
    if (node.type === "BLOCK_LITERAL") {
      // Content starts on the line after the indicator; its indentation is that of the first non-empty line.
      let indent = 0;
      for (let l = start.line + 1; l <= source.lineCount; l++) {
        const text = source.lineText(l);
        if (text.trim() !== "") {
          indent = text.length - text.trimStart().length;
          break;
        }
      }
      return {
        file,
        map: (row, column) =>
          source.positionOf(start.line + row, indent + column),
      };
    }
    const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
    const raw = source.text.slice(
      begin + (quoted ? 1 : 0),
      quoted ? end - 1 : end,
    );
    if (raw === value) {
      return {
        file,
        map: (_row, column) =>
          source.positionAt(
            begin + (quoted ? 1 : 0) + offsetOf(value, _row, column),
          ),
      };
    }
    // Escapes, folding or line joins: find the text at that place of the value in the source, else the scalar start.
    return {
      file,
      map: (row, column) => {
        const at = offsetOf(value, row, column);
        const needle = value.slice(at, at + 24).split("\n")[0]!;
        const found = needle.length >= 3
          ? source.text.indexOf(needle, begin)
          : -1;
        return found >= 0 && found < end ? source.positionAt(found) : start;
      },
    };
  }

  #error(
    range: readonly number[] | null | undefined,
    message: string,
    path: (string | number)[],
    code: "yaml_syntax" | "over_budget" = "yaml_syntax",
  ): void {
    const loc = this.loc(range);
    this.#diagnostics.push({
      code,
      severity: "error",
      message,
      file: this.#source.file,
      ...(loc.start ? { position: loc.start } : {}),
      path,
    });
  }
}
