import { dirname, extname, isAbsolute, join, normalize } from "node:path";
import type { Diagnostic } from "./diagnostic.ts";
import { mergeNodes } from "./_merge.ts";
import { parseYaml } from "./parse_yaml.ts";
import { SourceText } from "./source_text.ts";
import type { Loc, SpecNode } from "./source_tree.ts";

/** Reads a spec file's text; throws `Deno.errors.NotFound` (or any error) when it cannot. */
export type ReadFile = (path: string) => string;

/** The spec tree after `extends` and `file://` includes, with every source file read. */
export interface LoadedSpec {
  readonly root?: SpecNode;
  readonly sources: ReadonlyMap<string, SourceText>;
  readonly diagnostics: Diagnostic[];
}

const STRUCTURED = new Set([".yaml", ".yml", ".json"]);

/** Spec files, prompts and rubrics are small; a larger include is a mistake (or /dev/zero). */
const MAX_SPEC_FILE_BYTES = 4 << 20;

/** Thrown by the default reader for a file that is not a spec-sized UTF-8 text file. */
class UnreadableSpecFile extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreadableSpecFile";
  }
}

function defaultReadFile(path: string): string {
  const info = Deno.statSync(path);
  if (info.isDirectory) throw new Deno.errors.IsADirectory(path);
  if (!info.isFile) throw new UnreadableSpecFile("it is not a regular file");
  if (info.size > MAX_SPEC_FILE_BYTES) {
    throw new UnreadableSpecFile(
      `it is ${info.size} bytes, more than a spec file may hold (${MAX_SPEC_FILE_BYTES})`,
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Deno.readFileSync(path),
    );
  } catch (e) {
    if (e instanceof TypeError) {
      throw new UnreadableSpecFile("it is not UTF-8 text");
    }
    throw e;
  }
}

/** Resolves a path written in `from`: absolute stays absolute, relative is relative to from's folder. */
function resolveFrom(from: string, written: string): string {
  const path = written.replace(/^file:\/\//, "");
  return normalize(isAbsolute(path) ? path : join(dirname(from), path));
}

function at(loc: Loc): Pick<Diagnostic, "file" | "position" | "end"> {
  return {
    file: loc.file,
    ...(loc.start ? { position: loc.start } : {}),
    ...(loc.end ? { end: loc.end } : {}),
  };
}

class Loader {
  readonly sources = new Map<string, SourceText>();
  readonly diagnostics: Diagnostic[] = [];
  readonly #read: ReadFile;

  constructor(read: ReadFile) {
    this.#read = read;
  }

  /** Reads and registers a file; reports `file_not_found` at `from` when it cannot. */
  read(
    path: string,
    from: Loc | undefined,
    what: string,
    keyPath: (string | number)[],
  ): SourceText | undefined {
    const cached = this.sources.get(path);
    if (cached) return cached;
    let text: string;
    try {
      text = this.#read(path);
    } catch (e) {
      const state = e instanceof Deno.errors.NotFound
        ? "no such file"
        : e instanceof Deno.errors.IsADirectory
        ? "it is a directory"
        : e instanceof Error
        ? e.message
        : String(e);
      this.diagnostics.push({
        code: "file_not_found",
        severity: "error",
        message: `Cannot read ${what} "${path}": ${state}`,
        ...(from ? at(from) : { file: path }),
        path: keyPath,
        hint: !(e instanceof Deno.errors.NotFound)
          ? "name a UTF-8 text file of at most 4 MiB"
          : what === "spec"
          ? "check the path: it is relative to the current directory"
          : "paths are relative to the file that names them",
      });
      return undefined;
    }
    const source = new SourceText(path, text);
    this.sources.set(path, source);
    return source;
  }

  /** Parses a YAML/JSON file and resolves its extends and includes; its keys sit at `contentPath`. */
  loadStructured(
    path: string,
    from: Loc | undefined,
    stack: string[],
    keyPath: (string | number)[],
    contentPath: (string | number)[] = keyPath,
  ): SpecNode | undefined {
    if (stack.includes(path)) {
      const chain = [...stack.slice(stack.indexOf(path)), path].join(" -> ");
      this.diagnostics.push({
        code: "include_cycle",
        severity: "error",
        message:
          `Cannot include "${path}": it includes itself through ${chain}`,
        ...(from ? at(from) : { file: path }),
        path: keyPath,
        hint:
          "break the cycle by moving shared parts into a third file both include",
      });
      return undefined;
    }
    const source = this.read(
      path,
      from,
      stack.length === 0 ? "spec" : "included file",
      keyPath,
    );
    if (!source) return undefined;
    const parsed = parseYaml(source);
    this.diagnostics.push(...parsed.diagnostics);
    if (!parsed.root) return undefined;
    return this.resolve(parsed.root, path, [...stack, path], contentPath);
  }

  resolve(
    root: SpecNode,
    file: string,
    stack: string[],
    keyPath: (string | number)[],
  ): SpecNode | undefined {
    let node = this.#includes(root, file, stack, keyPath);
    if (node.kind !== "map" || !node.entries.has("extends")) return node;
    const ext = node.entries.get("extends")!;
    const entries = new Map(node.entries);
    entries.delete("extends");
    node = { kind: "map", entries, loc: node.loc };
    const items = ext.node.kind === "seq" ? ext.node.items : [ext.node];
    let base: SpecNode | undefined;
    for (const [i, item] of items.entries()) {
      const itemPath = ext.node.kind === "seq"
        ? [...keyPath, "extends", i]
        : [...keyPath, "extends"];
      if (
        item.kind !== "scalar" || typeof item.value !== "string" ||
        item.value === ""
      ) {
        this.diagnostics.push({
          code: "invalid_include",
          severity: "error",
          message:
            "Cannot extend a spec named by a non-string: extends takes a path or a list of paths",
          ...at(item.loc),
          path: itemPath,
          hint: "write extends: ./base.yaml",
        });
        continue;
      }
      const target = resolveFrom(file, item.value);
      // A base's keys merge into this spec's, so they keep this spec's key path.
      const loaded = this.loadStructured(
        target,
        item.loc,
        stack,
        itemPath,
        keyPath,
      );
      if (loaded) base = base ? mergeNodes(base, loaded) : loaded;
    }
    return base ? mergeNodes(base, node) : node;
  }

  #includes(
    node: SpecNode,
    file: string,
    stack: string[],
    keyPath: (string | number)[],
  ): SpecNode {
    if (node.kind === "map") {
      for (const [k, e] of node.entries) {
        if (k === "extends" && keyPath.length === 0) continue;
        e.node = this.#includes(e.node, file, stack, [...keyPath, k]);
      }
      return node;
    }
    if (node.kind === "seq") {
      node.items.forEach((item, i) =>
        node.items[i] = this.#includes(item, file, stack, [...keyPath, i])
      );
      return node;
    }
    if (typeof node.value !== "string" || !node.value.startsWith("file://")) {
      return node;
    }
    const rel = node.value.slice("file://".length);
    const target = resolveFrom(node.loc.file || file, rel);
    if (STRUCTURED.has(extname(target).toLowerCase())) {
      return this.loadStructured(target, node.loc, stack, keyPath) ?? node;
    }
    const source = this.read(target, node.loc, "included file", keyPath);
    if (!source) return node;
    return {
      kind: "scalar",
      value: source.text,
      // Shape errors point at the file:// reference; template errors map into the file through origin.
      loc: node.loc,
      origin: {
        file: target,
        map: (row, column) => source.positionOf(row, column),
      },
      included: true,
    };
  }
}

/** Options for `loadSpec`. */
export interface LoadSpecOptions {
  /** Reads a file; default `Deno.readTextFileSync`. */
  readFile?: ReadFile;
  /** Text of the entry file, when the caller already has it (it is not read again). */
  text?: string;
}

/**
 * Reads a YAML or JSON spec, resolving `extends` and `file://` includes relative to the file naming them.
 *
 * Every problem is a diagnostic; nothing is thrown for bad input.
 */
export function loadSpec(
  file: string,
  options: LoadSpecOptions = {},
): LoadedSpec {
  const entry = normalize(file);
  const text = options.text;
  const read = options.readFile ?? defaultReadFile;
  const loader = new Loader(
    text === undefined ? read : (p) => (p === entry ? text : read(p)),
  );
  const root = loader.loadStructured(entry, undefined, [], []);
  return root
    ? { root, sources: loader.sources, diagnostics: loader.diagnostics }
    : {
      sources: loader.sources,
      diagnostics: loader.diagnostics,
    };
}

/** Resolves includes and extends for a spec given as data (TS `definePipeline`); paths are relative to `file`. */
export function loadSpecTree(
  root: SpecNode,
  file: string,
  options: LoadSpecOptions = {},
): LoadedSpec {
  const loader = new Loader(options.readFile ?? defaultReadFile);
  const resolved = loader.resolve(root, normalize(file), [normalize(file)], []);
  return resolved
    ? {
      root: resolved,
      sources: loader.sources,
      diagnostics: loader.diagnostics,
    }
    : { sources: loader.sources, diagnostics: loader.diagnostics };
}
