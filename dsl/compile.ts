import { dirname, normalize } from "node:path";
import { buildGraph } from "./build_graph.ts";
import { checkBudgets } from "./check_budgets.ts";
import { checkShape } from "./check_shape.ts";
import {
  compareDiagnostics,
  type Diagnostic,
  formatPath,
  type RelatedLocation,
} from "./diagnostic.ts";
import type { ExecutionGraph } from "./graph.ts";
import { type EnvLookup, typed } from "./interpolate.ts";
import { firstPhases } from "./_first_phases.ts";
import {
  type LoadedSpec,
  loadSpec,
  loadSpecTree,
  type ReadFile,
} from "./load_spec.ts";
import { outsideScope, readScope, unionScope } from "./read_scope.ts";
import { RuleContext } from "./rule_context.ts";
import { RULES } from "./rules.ts";
import type { PipelineAuthoring } from "./define_pipeline.ts";
import { PipelineSchema } from "./schema.ts";
import type { SourceText } from "./source_text.ts";
import {
  CyclicValueError,
  fromValue,
  type Loc,
  nodeAt,
  type SpecNode,
  toValue,
} from "./source_tree.ts";

/** Options for `compile`, `compileFile` and `compileSpec`. */
export interface CompileOptions {
  /**
   * The spec's path, used in diagnostics and to resolve relative paths.
   * @default "pipeline.yaml"
   */
  file?: string;
  /**
   * Environment for `${env.NAME}`.
   * @default Deno.env.get (unset when env access is not permitted)
   */
  env?: EnvLookup;
  /**
   * Reads included files and JSON Schemas.
   * @default Deno.readTextFileSync
   */
  readFile?: ReadFile;
  /**
   * Whether a dataset file exists.
   * @default a Deno.statSync check
   */
  fileExists?: (path: string) => boolean;
  /**
   * Most diagnostics reported; one more says how many were left out.
   * @default 100
   */
  maxErrors?: number;
  /**
   * Paths outside the spec's folder it may read (`--allow-read`): includes, extends, datasets, schemas.
   * @default none: every file the spec names must be inside its folder (DESIGN.md decision 12)
   */
  allowRead?: readonly string[];
  /** Bases fetched before compiling: pinned `extends` URL (or local bundle path) -> local spec path. */
  fetched?: ReadonlyMap<string, string>;
}

function loadOptions(options: CompileOptions) {
  return {
    ...(options.readFile ? { readFile: options.readFile } : {}),
    ...(options.allowRead ? { allowRead: options.allowRead } : {}),
    ...(options.fetched ? { fetched: options.fetched } : {}),
  };
}

/** What `compile` returns: the graph and warnings, or every diagnostic found. */
export type CompileResult =
  | {
    readonly ok: true;
    readonly graph: ExecutionGraph;
    readonly warnings: readonly Diagnostic[];
    readonly sources: ReadonlyMap<string, SourceText>;
  }
  | {
    readonly ok: false;
    readonly diagnostics: readonly Diagnostic[];
    readonly sources: ReadonlyMap<string, SourceText>;
  };

/**
 * Thrown by `compileOrThrow` when a spec has errors; carries every diagnostic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpecError } from "./compile.ts";
 * const e = new SpecError([]);
 * assert(e.name === "SpecError" && e.diagnostics.length === 0);
 * ```
 */
export class SpecError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[], options?: ErrorOptions) {
    const first = diagnostics[0];
    super(
      first
        ? `Cannot compile spec: ${diagnostics.length} problem${
          diagnostics.length === 1 ? "" : "s"
        }, first ${first.file}:${first.position?.line ?? 0}:${
          first.position?.column ?? 0
        } ${first.message}`
        : "Cannot compile spec",
      options,
    );
    this.name = "SpecError";
    this.diagnostics = diagnostics;
  }
}

function defaultExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Adds the include chain as notes to diagnostics located in included files: "included from here". */
function withIncludeChain(
  diagnostics: readonly Diagnostic[],
  includedFrom: ReadonlyMap<string, Loc> | undefined,
): Diagnostic[] {
  if (!includedFrom || includedFrom.size === 0) return [...diagnostics];
  return diagnostics.map((d) => {
    const chain: RelatedLocation[] = [];
    const seen = new Set<string>([d.file]);
    for (
      let from = includedFrom.get(d.file);
      from && chain.length < 16;
      from = includedFrom.get(from.file)
    ) {
      // A note the diagnostic already has (e.g. "included file named here") is not repeated.
      if (
        !d.related?.some((r) =>
          r.file === from!.file && r.position?.offset === from!.start?.offset
        )
      ) {
        chain.push({
          file: from.file,
          ...(from.start ? { position: from.start } : {}),
          message: `"${[...seen].at(-1)}" is included from here`,
        });
      }
      if (seen.has(from.file)) break;
      seen.add(from.file);
    }
    return chain.length === 0
      ? d
      : { ...d, related: [...(d.related ?? []), ...chain] };
  });
}

function cap(
  diagnostics: Diagnostic[],
  max: number,
  severity: Diagnostic["severity"] = "error",
): Diagnostic[] {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  if (sorted.length <= max) return sorted;
  const kept = sorted.slice(0, max);
  const last = kept[kept.length - 1]!;
  kept.push({
    code: "too_many_errors",
    severity,
    message: `Cannot report every problem: ${sorted.length - max} more ${
      sorted.length - max === 1 ? "was" : "were"
    } left out`,
    file: last.file,
    path: [],
    hint: "fix these first and run the check again",
  });
  return kept;
}

function coerceInterpolated(
  root: SpecNode,
  issues: readonly { code: string; path: PropertyKey[] }[],
): boolean {
  let changed = false;
  for (const issue of issues) {
    const expected = (issue as { expected?: string }).expected;
    if (
      issue.code !== "invalid_type" ||
      !(expected === "number" || expected === "int" || expected === "boolean")
    ) {
      continue;
    }
    const found = nodeAt(
      root,
      issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    );
    const node = found.node;
    if (
      !found.exact || node.kind !== "scalar" || !node.interpolated ||
      typeof node.value !== "string"
    ) continue;
    const value = typed(node.value);
    if (
      expected === "boolean"
        ? typeof value === "boolean"
        : typeof value === "number"
    ) {
      node.value = value;
      changed = true;
    }
  }
  return changed;
}

function finish(
  loaded: LoadedSpec,
  file: string,
  options: CompileOptions,
): CompileResult {
  const max = options.maxErrors ?? 100;
  const sources = loaded.sources;
  const fail = (diagnostics: Diagnostic[]): CompileResult => ({
    ok: false,
    diagnostics: cap(withIncludeChain(diagnostics, loaded.includedFrom), max),
    sources,
  });
  const errorsIn = (ds: readonly Diagnostic[]) =>
    ds.some((d) => d.severity === "error");
  // Phases stop at the first with errors: semantic rules never run on a broken shape.
  const first = firstPhases(loaded, options.env);
  if ("diagnostics" in first) return fail(first.diagnostics);
  const root = first.root;
  let data = toValue(root);
  let parsed = PipelineSchema.safeParse(data);
  // `${env.X}` always yields text; where the schema wants a number or boolean, read the text as one.
  if (!parsed.success && coerceInterpolated(root, parsed.error.issues)) {
    data = toValue(root);
    parsed = PipelineSchema.safeParse(data);
  }
  if (!parsed.success) {
    return fail(checkShape(PipelineSchema, root, data, parsed.error.issues));
  }
  const overBudget = checkBudgets(parsed.data, root);
  if (overBudget.length > 0) return fail(overBudget);
  const read = options.readFile ??
    ((p: string) => Deno.readTextFileSync(p));
  const entryScope = loaded.scopes?.get(file) ??
    readScope(dirname(file), options.allowRead ?? []);
  const scope = unionScope([entryScope, ...(loaded.scopes?.values() ?? [])]);
  const readFile = (p: string) => {
    const why = outsideScope(p, scope);
    if (why !== undefined) throw new Error(why);
    return read(p);
  };
  const ctx = new RuleContext(parsed.data, root, {
    baseDir: dirname(file),
    fileExists: options.fileExists ?? defaultExists,
    readFile,
    readScopeOf: (f) => loaded.scopes?.get(f) ?? entryScope,
  });
  for (const rule of RULES) rule(ctx);
  const all = [...loaded.diagnostics, ...ctx.diagnostics];
  if (errorsIn(all)) return fail(all);
  const built = buildGraph(ctx, file, sources);
  // What the runtime may read for this spec (dataset rows' files, answers): the same scope.
  const graph = {
    ...built,
    dataset: { ...built.dataset, read_roots: scope.roots },
  };
  return {
    ok: true,
    graph,
    warnings: cap(withIncludeChain(all, loaded.includedFrom), max, "warning"),
    sources,
  };
}

/**
 * Compiles a YAML (or JSON) spec's text into an execution graph, collecting every problem as a diagnostic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compile } from "./compile.ts";
 * const result = compile("version: 1\nname: x\n", { file: "x.yaml" });
 * assert(!result.ok);
 * assert.equal(result.diagnostics[0]!.code, "missing_key");
 * ```
 */
export function compile(
  text: string,
  options: CompileOptions = {},
): CompileResult {
  const file = normalize(options.file ?? "pipeline.yaml");
  return bounded(file, () => {
    const loaded = loadSpec(file, { text, ...loadOptions(options) });
    return finish(loaded, file, options);
  });
}

/** A compile that stops on one error of its own (a value that contains itself, a RangeError), with no sources. */
function stoppedOn(error: Omit<Diagnostic, "severity">): CompileResult {
  const { code, ...rest } = error;
  return {
    ok: false,
    sources: new Map(),
    diagnostics: [{ code, severity: "error", ...rest }],
  };
}

/**
 * Runs a compile, turning a RangeError (a stack or string length V8 cannot give) into a diagnostic: the
 * budgets should stop every spec before that, and this keeps compile() from throwing if one does not.
 */
function bounded(file: string, run: () => CompileResult): CompileResult {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return stoppedOn({
      code: "over_budget",
      message:
        `Cannot compile the spec within the compiler's memory and stack: ${e.message}`,
      file,
      position: { line: 1, column: 1, offset: 0 },
      path: [],
      hint:
        "make the spec smaller; please report the spec, since a budget should have stopped it",
    });
  }
}

/**
 * Reads and compiles a spec file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "./compile.ts";
 * const result = compileFile("pipelines/math.yaml");
 * assert(result.ok);
 * ```
 */
export function compileFile(
  path: string,
  options: Omit<CompileOptions, "file"> = {},
): CompileResult {
  const file = normalize(path);
  return bounded(file, () => {
    const loaded = loadSpec(file, loadOptions(options));
    return finish(loaded, file, { ...options, file });
  });
}

/**
 * Compiles a spec given as data, e.g. the default export of a TS module calling `definePipeline`.
 * Diagnostics carry the file and key path but no position.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileSpec } from "./compile.ts";
 * const result = compileSpec({ version: 1, name: "x" } as never, { file: "x.ts" });
 * assert(!result.ok);
 * ```
 */
export function compileSpec(
  spec: PipelineAuthoring | Record<string, unknown>,
  options: CompileOptions = {},
): CompileResult {
  const file = normalize(options.file ?? "pipeline.ts");
  let tree;
  try {
    tree = fromValue(spec, file);
  } catch (e) {
    if (!(e instanceof CyclicValueError)) throw e;
    return stoppedOn({
      code: "invalid_value",
      message: `Cannot accept the value at ${
        formatPath(e.path)
      }: it contains itself`,
      file,
      path: [...e.path],
      hint:
        "a spec is plain data: copy the object instead of referring back to it",
    });
  }
  return bounded(file, () => {
    const loaded = loadSpecTree(tree, file, loadOptions(options));
    return finish(loaded, file, { ...options, file });
  });
}

/**
 * Compiles a spec's text and returns the graph, or throws `SpecError` with every diagnostic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileOrThrow, SpecError } from "./compile.ts";
 * assert.throws(
 *   () => compileOrThrow("name: [", { file: "broken.yaml" }),
 *   (e) => e instanceof SpecError && e.diagnostics[0]!.code === "yaml_syntax",
 * );
 * ```
 */
export function compileOrThrow(
  text: string,
  options: CompileOptions = {},
): ExecutionGraph {
  const result = compile(text, options);
  if (!result.ok) throw new SpecError(result.diagnostics);
  return result.graph;
}
