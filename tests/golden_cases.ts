import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, type Diagnostic, renderDiagnostics } from "../dsl/mod.ts";

/** The repository root; spec paths stay relative to it so rendered output does not depend on the cwd. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** Where the golden cases live, relative to the repository root. */
export const SPEC_ERRORS = "tests/spec_errors";

/** The only environment golden specs see, so `${env.X}` cases render the same everywhere. */
export const GOLDEN_ENV = (name: string): string | undefined =>
  name === "MAPPA_TEST_SET" ? "1" : undefined;

/** Names of the golden cases (one per diagnostic code): each `tests/spec_errors/<name>.yaml`, sorted. */
export function goldenCases(): string[] {
  return readdirSync(resolve(ROOT, SPEC_ERRORS))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

/** Names of the `.expected` files, sorted, to find ones without a spec. */
export function expectedFiles(): string[] {
  return readdirSync(resolve(ROOT, SPEC_ERRORS))
    .filter((f) => f.endsWith(".expected"))
    .map((f) => f.slice(0, -".expected".length))
    .sort();
}

/** Path of a case's golden file, absolute. */
export function expectedPath(name: string): string {
  return resolve(ROOT, SPEC_ERRORS, `${name}.expected`);
}

/** A compiled golden case: what the CLI would print to stderr, and the diagnostics it came from. */
export interface GoldenOutput {
  readonly text: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** Compiles `tests/spec_errors/<name>.yaml` and renders its diagnostics (its warnings when it compiles). */
export function renderCase(name: string): GoldenOutput {
  const result = compileFile(`${SPEC_ERRORS}/${name}.yaml`, {
    env: GOLDEN_ENV,
    readFile: (p) => Deno.readTextFileSync(resolve(ROOT, p)),
    fileExists: (p) =>
      existsSync(resolve(ROOT, p)) && statSync(resolve(ROOT, p)).isFile(),
  });
  const diagnostics = result.ok ? result.warnings : result.diagnostics;
  // The CLI prints the rendering with console.error, which adds the final newline.
  return {
    text: `${renderDiagnostics(diagnostics, result.sources)}\n`,
    diagnostics,
  };
}
