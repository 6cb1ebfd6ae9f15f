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
} from "yaml";
import type { Diagnostic } from "./diagnostic.ts";
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

/**
 * Parses YAML text into a spec tree that keeps a location for every key and value.
 *
 * Syntax errors and duplicate keys are reported as diagnostics; nothing is thrown.
 */
export function parseYaml(source: SourceText): ParsedYaml {
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
  const converter = new Converter(source, doc, diagnostics);
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
const MAX_ALIAS_NODES = 100_000;
const MAX_DEPTH = 64;

class Converter {
  readonly #source: SourceText;
  readonly #doc: Document;
  readonly #diagnostics: Diagnostic[];
  readonly #resolving = new Set<Node>();
  #aliasNodes = 0;
  #tooDeep = false;

  constructor(source: SourceText, doc: Document, diagnostics: Diagnostic[]) {
    this.#source = source;
    this.#doc = doc;
    this.#diagnostics = diagnostics;
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
        );
      }
      return { kind: "scalar", value: null, loc: this.loc(node.range) };
    }
    if (this.#resolving.size > 0 && ++this.#aliasNodes > MAX_ALIAS_NODES) {
      if (this.#aliasNodes === MAX_ALIAS_NODES + 1) {
        this.#error(
          node.range,
          `Cannot expand YAML aliases: they expand to more than ${MAX_ALIAS_NODES} nodes`,
          path,
        );
      }
      return { kind: "scalar", value: null, loc: this.loc(node.range) };
    }
    if (isAlias(node)) {
      const target = node.resolve(this.#doc);
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
  ): void {
    const loc = this.loc(range);
    this.#diagnostics.push({
      code: "yaml_syntax",
      severity: "error",
      message,
      file: this.#source.file,
      ...(loc.start ? { position: loc.start } : {}),
      path,
    });
  }
}
