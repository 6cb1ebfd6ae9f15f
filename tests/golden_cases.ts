import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compileFile,
  compileModule,
  type Diagnostic,
  renderDiagnostics,
  SPEC_BUDGETS,
} from "../dsl/mod.ts";
import { readSpecFile } from "../dsl/read_spec_file.ts";

/** The repository root; spec paths stay relative to it so rendered output does not depend on the cwd. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** Where the golden cases live, relative to the repository root. */
export const SPEC_ERRORS = "tests/spec_errors";

/** The only environment golden specs see, so `${env.X}` cases render the same everywhere. */
export const GOLDEN_ENV = (name: string): string | undefined =>
  name === "MAPPA_TEST_SET" ? "1" : undefined;

/** Names of the golden cases (one per diagnostic code): each `tests/spec_errors/<name>.yaml` (or `.ts`), sorted. */
export function goldenCases(): string[] {
  return readdirSync(resolve(ROOT, SPEC_ERRORS))
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".ts"))
    .map((f) => f.replace(/\.(yaml|ts)$/, ""))
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

/** Compiles `tests/spec_errors/<name>.yaml` (or imports `<name>.ts`) and renders its diagnostics (its warnings when it compiles). */
export async function renderCase(name: string): Promise<GoldenOutput> {
  if (name === "file_too_large") writeBigFile();
  const options = {
    env: GOLDEN_ENV,
    // The compiler's own reader, so directories, sizes and bad bytes are reported as `check` reports them.
    readFile: (p: string) => readSpecFile(resolve(ROOT, p)),
    fileExists: (p: string) =>
      existsSync(resolve(ROOT, p)) && statSync(resolve(ROOT, p)).isFile(),
  };
  const ts = `${SPEC_ERRORS}/${name}.ts`;
  const result = existsSync(resolve(ROOT, ts))
    ? await compileModule(ts, options)
    : compileFile(`${SPEC_ERRORS}/${name}.yaml`, options);
  const diagnostics = result.ok ? result.warnings : result.diagnostics;
  // The CLI prints the rendering with console.error, which adds the final newline.
  return {
    text: `${renderDiagnostics(diagnostics, result.sources)}\n`,
    diagnostics,
  };
}

/** The file_too_large case names a file one byte over the budget; it is written here, not checked in. */
function writeBigFile(): void {
  const path = resolve(ROOT, SPEC_ERRORS, "file_too_large", "big.md");
  const size = SPEC_BUDGETS.fileBytes + 1;
  if (existsSync(path) && statSync(path).size === size) return;
  Deno.writeTextFileSync(path, "x".repeat(size));
}
