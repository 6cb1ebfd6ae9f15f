import { dirname, extname, isAbsolute, join, normalize } from "node:path";
import { SPEC_BUDGETS } from "./budgets.ts";
import {
  type FileCode,
  fileHint,
  readSpecFile,
  SpecFileError,
  tooLarge,
} from "./read_spec_file.ts";
import type { Diagnostic, SourcePosition } from "./diagnostic.ts";
import { mergeNodes } from "./_merge.ts";
import {
  charge,
  type ExpandBudget,
  newBudget,
  parseYaml,
} from "./parse_yaml.ts";
import { SourceText } from "./source_text.ts";
import type { Loc, SpecNode } from "./source_tree.ts";
import { outsideHint, outsideScope, type ReadScope } from "./read_scope.ts";
import { FileScopes } from "./_file_scopes.ts";

/** Reads a spec file's text; throws `Deno.errors.NotFound` (or any error) when it cannot. */
export type ReadFile = (path: string) => string;

/** The spec tree after `extends` and `file://` includes, with every source file read. */
export interface LoadedSpec {
  readonly root?: SpecNode;
  readonly sources: ReadonlyMap<string, SourceText>;
  readonly diagnostics: Diagnostic[];
  /** Where each included file was first named: follow it to show the include chain. */
  readonly includedFrom?: ReadonlyMap<string, Loc>;
  /** The scope each file was read in (the entry's first): paths a file names must stay inside it. */
  readonly scopes?: ReadonlyMap<string, ReadScope>;
}

const STRUCTURED = new Set([".yaml", ".yml", ".json"]);

/**
 * Resolves a path written in the spec file `from`: absolute stays absolute, relative is relative to
 * from's folder (a `file://` prefix is dropped). It is also the key of a fetched base in `fetched`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFrom } from "./load_spec.ts";
 * assert.equal(resolveFrom("specs/a.yaml", "file://prompts/p.md"), "specs/prompts/p.md");
 * ```
 */
export function resolveFrom(from: string, written: string): string {
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

const START: SourcePosition = { line: 1, column: 1, offset: 0 };

/** `https://…`, `http://…` and other URL schemes but file://, which names a local path. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

class Loader {
  readonly sources = new Map<string, SourceText>();
  readonly diagnostics: Diagnostic[] = [];
  /** Where each included file was first named, for the include chain in notes. */
  readonly includedFrom = new Map<string, Loc>();
  readonly budget: ExpandBudget = newBudget();
  readonly #read: ReadFile;
  readonly #unreadable = new Set<string>();
  /** The scope each file was read in: the files it names must stay inside it. */
  readonly scopes: FileScopes;
  readonly #fetched?: ReadonlyMap<string, string>;
  #bytes = 0;

  constructor(read: ReadFile, options: LoadSpecOptions, entry?: string) {
    this.#read = read;
    this.scopes = new FileScopes(options.allowRead);
    if (options.fetched) this.#fetched = options.fetched;
    if (entry !== undefined) this.scopes.enter(entry);
  }

  /** Reports a read outside `scope` at `from` (and returns true), before anything is read. */
  #refused(
    path: string,
    from: Loc,
    what: string,
    keyPath: (string | number)[],
    scope: ReadScope,
  ): boolean {
    const why = outsideScope(path, scope);
    if (why === undefined) return false;
    this.#unreadable.add(path);
    this.diagnostics.push({
      code: "include_outside_folder",
      severity: "error",
      message: `Cannot read ${what} "${path}": ${why}`,
      ...at(from),
      path: keyPath,
      hint: outsideHint(why),
    });
    return true;
  }

  /**
   * Reads and registers a file; reports why at `from` (or at the file's start) when it cannot. A file
   * named from another (`from`) must lie in `scope`, the naming file's scope; it is checked first.
   */
  read(
    path: string,
    from: Loc | undefined,
    what: string,
    keyPath: (string | number)[],
    scope?: ReadScope,
  ): SourceText | undefined {
    if (from && scope && !this.scopes.has(path)) {
      if (this.#refused(path, from, what, keyPath, scope)) return undefined;
    }
    if (this.#unreadable.has(path)) return undefined;
    const cached = this.sources.get(path);
    if (cached) return cached;
    const fail = (
      code: FileCode | "over_budget",
      state: string,
      hint: string,
    ) => {
      this.diagnostics.push({
        code,
        severity: "error",
        message: `Cannot read ${what} "${path}": ${state}`,
        // A spec that does not exist has no text to point into; any other file-level error is located.
        ...(from
          ? at(from)
          : code === "file_not_found"
          ? { file: path }
          : { file: path, position: START }),
        path: keyPath,
        hint,
      });
      return undefined;
    };
    let text: string;
    try {
      text = this.#read(path);
    } catch (e) {
      if (e instanceof SpecFileError && e.text !== undefined) {
        // The bad byte is in the file itself: point there, with the file shown as far as it decodes.
        const source = new SourceText(path, e.text);
        this.diagnostics.push({
          code: e.code,
          severity: "error",
          message: `Cannot read ${what} "${path}": ${e.message}`,
          file: path,
          position: source.positionAt(e.offset ?? 0),
          path: keyPath,
          ...(from
            ? {
              related: [{
                file: from.file,
                ...(from.start ? { position: from.start } : {}),
                message: `${what} named here`,
              }],
            }
            : {}),
          hint: fileHint(e.code, what),
        });
        this.sources.set(path, source);
        this.#unreadable.add(path);
        return undefined;
      }
      const code: FileCode = e instanceof SpecFileError
        ? e.code
        : e instanceof Deno.errors.IsADirectory
        ? "file_is_directory"
        : "file_not_found";
      const state = e instanceof Deno.errors.NotFound
        ? "no such file"
        : e instanceof Deno.errors.IsADirectory
        ? "it is a directory"
        : e instanceof Error
        ? e.message
        : String(e);
      return fail(code, state, fileHint(code, what));
    }
    if (text.length > SPEC_BUDGETS.fileBytes) {
      return fail(
        "file_too_large",
        tooLarge(text.length),
        fileHint("file_too_large", what),
      );
    }
    this.#bytes += text.length;
    if (this.#bytes > SPEC_BUDGETS.totalBytes) {
      return fail(
        "over_budget",
        `the files of this spec hold more than ${SPEC_BUDGETS.totalBytes} bytes together`,
        "include fewer or smaller files",
      );
    }
    if (from) {
      this.includedFrom.set(path, from);
      if (scope) this.scopes.set(path, scope);
    } else this.scopes.enter(path);
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
    scope?: ReadScope,
  ): SpecNode | undefined {
    if (stack.includes(path)) {
      const chain = [...stack.slice(stack.indexOf(path)), path].join(" -> ");
      this.diagnostics.push({
        code: "include_cycle",
        severity: "error",
        message:
          `Cannot include "${path}": it includes itself through ${chain}`,
        ...(from ? at(from) : { file: path, position: START }),
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
      scope,
    );
    if (!source) return undefined;
    const parsed = parseYaml(source, this.budget);
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
      const target = this.#base(file, item.value, item.loc, itemPath);
      if (target === undefined) continue;
      // A base's keys merge into this spec's, so they keep this spec's key path.
      const loaded = this.loadStructured(
        target.path,
        item.loc,
        stack,
        itemPath,
        keyPath,
        target.scope,
      );
      if (loaded && loaded.kind !== "map") {
        this.diagnostics.push({
          code: "invalid_include",
          severity: "error",
          message: `Cannot extend "${target.path}": it holds ${
            loaded.kind === "seq"
              ? "a list"
              : loaded.value === null
              ? "nothing"
              : "a single value"
          }, not a mapping of spec keys`,
          ...at(item.loc),
          path: itemPath,
          hint: "extends names another spec (or part of one): a YAML mapping",
        });
        continue;
      }
      if (loaded) base = base ? mergeNodes(base, loaded) : loaded;
    }
    return base ? mergeNodes(base, node) : node;
  }

  /**
   * The file an `extends` item names and the scope it is checked in: a base fetched before loading
   * (pinned URL, local bundle) is read from the cache in its own scope; a URL nobody fetched is an error.
   */
  #base(
    file: string,
    written: string,
    loc: Loc,
    keyPath: (string | number)[],
  ): { path: string; scope?: ReadScope } | undefined {
    const isUrl = URL_LIKE.test(written) && !written.startsWith("file://");
    const key = isUrl ? written : resolveFrom(file, written);
    const fetched = this.#fetched?.get(key);
    if (fetched !== undefined) {
      if (
        !isUrl && this.#refused(key, loc, "base", keyPath, this.scopes.of(file))
      ) {
        return undefined;
      }
      this.scopes.enterFetched(fetched);
      return { path: fetched };
    }
    if (isUrl) {
      this.diagnostics.push({
        code: "invalid_include",
        severity: "error",
        message:
          `Cannot extend "${written}": a URL base is fetched by the CLI before compiling, and this compile had none`,
        ...at(loc),
        path: keyPath,
        hint:
          "pin it (https://…#sha256=<hex>) and check the spec with deno task check, which fetches it",
      });
      return undefined;
    }
    return { path: key, scope: this.scopes.of(file) };
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
    const scope = this.scopes.of(node.loc.file || file);
    if (STRUCTURED.has(extname(target).toLowerCase())) {
      const loaded = this.loadStructured(
        target,
        node.loc,
        stack,
        keyPath,
        keyPath,
        scope,
      );
      if (!loaded) return node;
      return loaded.kind === "map" ? { ...loaded, included: true } : loaded;
    }
    const source = this.read(
      target,
      node.loc,
      "included file",
      keyPath,
      scope,
    );
    if (!source) return node;
    if (!charge(this.budget, source.text.length, 1)) {
      if (!this.budget.reported) {
        this.budget.reported = true;
        this.diagnostics.push({
          code: "over_budget",
          severity: "error",
          message:
            `Cannot include "${target}" here: the spec would expand to more than ${SPEC_BUDGETS.expandedChars} characters`,
          ...at(node.loc),
          path: keyPath,
          hint: "include large texts once, or make them smaller",
        });
      }
      return node;
    }
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
  /** Reads a file; default `readSpecFile`. */
  readFile?: ReadFile;
  /** Text of the entry file, when the caller already has it (it is not read again). */
  text?: string;
  /**
   * Paths outside the entry spec's folder that its includes and extends may read (`--allow-read`);
   * anything else outside it is an `include_outside_folder` error, symlinks resolved.
   */
  allowRead?: readonly string[];
  /**
   * Bases fetched before loading (the loader does no network I/O): a pinned `extends` URL, or the
   * resolved path of a local bundle (`resolveFrom`), to the local path of the spec they unpacked to.
   */
  fetched?: ReadonlyMap<string, string>;
}

/**
 * Reads a YAML or JSON spec, resolving `extends` and `file://` includes relative to the file naming them.
 * Every file read stays inside the entry spec's folder (or `allowRead`); a fetched base inside its own.
 *
 * Every problem is a diagnostic; nothing is thrown for bad input.
 */
export function loadSpec(
  file: string,
  options: LoadSpecOptions = {},
): LoadedSpec {
  const entry = normalize(file);
  const text = options.text;
  const read = options.readFile ?? readSpecFile;
  const loader = new Loader(
    text === undefined ? read : (p) => (p === entry ? text : read(p)),
    options,
  );
  const root = loader.loadStructured(entry, undefined, [], []);
  const common = {
    sources: loader.sources,
    diagnostics: loader.diagnostics,
    includedFrom: loader.includedFrom,
    scopes: loader.scopes.all,
  };
  return root ? { root, ...common } : common;
}

/** Resolves includes and extends for a spec given as data (TS `definePipeline`); paths are relative to `file`. */
export function loadSpecTree(
  root: SpecNode,
  file: string,
  options: LoadSpecOptions = {},
): LoadedSpec {
  const loader = new Loader(
    options.readFile ?? readSpecFile,
    options,
    normalize(file),
  );
  const resolved = loader.resolve(root, normalize(file), [normalize(file)], []);
  const common = {
    sources: loader.sources,
    diagnostics: loader.diagnostics,
    includedFrom: loader.includedFrom,
    scopes: loader.scopes.all,
  };
  return resolved ? { root: resolved, ...common } : common;
}
