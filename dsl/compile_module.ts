import { normalize, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type CompileOptions,
  type CompileResult,
  compileSpec,
} from "./compile.ts";
import type { Diagnostic, SourcePosition } from "./diagnostic.ts";
import type { GraderFunction } from "./grader_function.ts";
import { SourceText } from "./source_text.ts";

function loadFailure(file: string, error: unknown): CompileResult {
  const raw = error instanceof Error ? error.message : String(error);
  // Deno reports syntax errors as "SyntaxError: <what>" plus a snippet and "at file:///x.ts:4:3".
  const where = /at (file:\/\/\S+?):(\d+):(\d+)\s*$/.exec(raw);
  const first = raw.split("\n")[0]!.replace(/\.+$/, "").replace(
    /^Module not found "file:\/\/[^"]*"$/,
    "no such file",
  );
  const sources = new Map<string, SourceText>();
  let position: SourcePosition | undefined;
  if (where) {
    try {
      const source = new SourceText(file, Deno.readTextFileSync(file));
      sources.set(file, source);
      position = source.positionOf(Number(where[2]), Number(where[3]));
    } catch { /* no snippet then */ }
  }
  const diagnostic: Diagnostic = {
    code: "invalid_module",
    severity: "error",
    message: `Cannot load TS spec "${file}": ${first}`,
    file,
    ...(position ? { position } : {}),
    path: [],
    hint:
      `run \`deno check ${file}\` to see every type and syntax error of the module`,
  };
  return { ok: false, diagnostics: [diagnostic], sources };
}

/**
 * Imports a TS spec module and compiles its default export (`definePipeline({...})`). A module that fails
 * to load, throws, or exports no spec is reported as an `invalid_module` diagnostic, never thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileModule } from "./compile_module.ts";
 * const result = await compileModule("pipelines/review.ts");
 * assert.ok(result.ok);
 * ```
 */
export async function compileModule(
  path: string,
  options: Omit<CompileOptions, "file"> = {},
): Promise<CompileResult> {
  const file = normalize(path);
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    return loadFailure(file, e);
  }
  const spec = mod.default;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    return {
      ok: false,
      sources: new Map(),
      diagnostics: [{
        code: "invalid_module",
        severity: "error",
        message: `Cannot use TS spec "${file}": its default export is ${
          spec === undefined
            ? "missing"
            : Array.isArray(spec)
            ? "a list"
            : `a ${typeof spec}`
        }, not a spec`,
        file,
        path: [],
        hint: "end the module with: export default definePipeline({ ... })",
      }],
    };
  }
  const result = compileSpec(spec as Record<string, unknown>, {
    ...options,
    file,
  });
  return result.ok ? withGraderFunctions(result, spec, file) : result;
}

/**
 * Attaches the spec's grader functions to the compiled outcome (`outcome.fn`, or a composite component's
 * `fn`): the spec and its hash hold only their source text, the runtime calls the functions themselves.
 * A function grader whose `fn` is not a function is an `invalid_value` diagnostic.
 */
function withGraderFunctions(
  result: Extract<CompileResult, { ok: true }>,
  spec: object,
  file: string,
): CompileResult {
  const outcome = result.graph.outcome;
  if (!outcome) return result;
  const raw = (spec as { outcome?: unknown }).outcome;
  const decls: [string, unknown, (string | number)[]][] =
    outcome.grader === "composite"
      ? Object.keys(outcome.params.graders).map((id) => [
        id,
        (raw as { params?: { graders?: Record<string, unknown> } })?.params
          ?.graders?.[id],
        ["outcome", "params", "graders", id, "fn"],
      ])
      : [["", raw, ["outcome", "fn"]]];
  const functions: Record<string, GraderFunction> = {};
  const diagnostics: Diagnostic[] = [];
  for (const [id, decl, path] of decls) {
    if ((decl as { grader?: unknown })?.grader !== "function") continue;
    const fn = (decl as { fn?: unknown }).fn;
    if (typeof fn === "function") functions[id] = fn as GraderFunction;
    else {
      diagnostics.push({
        code: "invalid_value",
        severity: "error",
        message: `Cannot grade with function grader "${
          id || "outcome"
        }": fn is a ${typeof fn}, not a function`,
        file,
        path,
        hint:
          "write fn: async ({ task, expected, outputs, workspace }) => ({ metrics: { ... } })",
      });
    }
  }
  if (diagnostics.length > 0) {
    return { ok: false, diagnostics, sources: result.sources };
  }
  if (Object.keys(functions).length === 0) return result;
  return {
    ...result,
    graph: { ...result.graph, outcome: { ...outcome, functions } },
  };
}
