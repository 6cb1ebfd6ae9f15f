// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import type { CompileResult, ExecutionGraph } from "../dsl/mod.ts";
import { renderDiagnostics } from "../dsl/mod.ts";
import { CMD } from "./command.ts";
import { UsageError } from "./exit_codes.ts";
import { compileSpecArg } from "./spec_arg.ts";

/** The one positional argument of `command` (a spec or a run directory); a usage error otherwise. */
export function specArg(positionals: string[], command: string): string {
  const spec = positionals[0];
  if (spec === undefined) {
    throw new UsageError(
      `Cannot run "${command}" without a spec: usage: ${CMD} ${command} <spec>`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `Cannot run "${command}" with more than one spec: got ${
        positionals.join(", ")
      }`,
    );
  }
  return spec;
}

/** Words as a reader lists them: "a", "a or b", "a, b or c". */
export function orList(words: readonly string[]): string {
  return words.length < 2
    ? words.join("")
    : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** A `--name` value that must be one of `choices`; a usage error naming them otherwise. */
export function oneOf<const C extends readonly string[]>(
  name: string,
  v: string,
  choices: C,
): C[number] {
  if (!choices.includes(v)) {
    throw new UsageError(
      `Cannot use --${name} "${v}": expected ${orList(choices)}`,
    );
  }
  return v;
}

/** A `--name` value that must be a whole number >= 1, or undefined when absent. */
export function wholeNumber(
  name: string,
  v: string | undefined,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `Cannot use --${name} "${v}": it must be a whole number >= 1`,
    );
  }
  return n;
}

/** Compiles a spec argument (path, bundle or URL), its warning lines going to stderr. */
export function compileAny(
  path: string,
  allowRead: readonly string[] = [],
): Promise<CompileResult> {
  return compileSpecArg(path, {
    allowRead,
    warn: (line) => console.error(line),
  });
}

/** Compiles a spec, printing its warnings; null (diagnostics printed) when it is invalid. */
export async function compileReported(
  spec: string,
  allowRead?: readonly string[],
): Promise<ExecutionGraph | null> {
  const result = await compileAny(spec, allowRead);
  if (!result.ok) {
    console.error(renderDiagnostics(result.diagnostics, result.sources));
    return null;
  }
  if (result.warnings.length > 0) {
    console.error(renderDiagnostics(result.warnings, result.sources));
  }
  return result.graph;
}
