// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { type Diagnostic, renderDiagnostics } from "../dsl/mod.ts";
import { compileAny, oneOf } from "./_args.ts";
import {
  ALLOW_READ,
  CMD,
  type Command,
  type CommandValues,
} from "./command.ts";
import { UsageError } from "./exit_codes.ts";

const OPTIONS = {
  format: { type: "string", default: "text" },
  ...ALLOW_READ,
} as const;

/** `check <spec>...`: validates specs; exit 0 ok, 1 invalid, 2 usage. */
export const CHECK: Command<typeof OPTIONS> = {
  name: "check",
  synopsis: ["<spec>... [--format text|json]"],
  description: ["validate specs; exit 0 ok, 1 invalid, 2 usage"],
  options: OPTIONS,
  run: check,
};

function jsonDiagnostics(ds: readonly Diagnostic[]): unknown[] {
  return ds.map((d) => ({
    code: d.code,
    severity: d.severity,
    file: d.file,
    line: d.position?.line ?? null,
    col: d.position?.column ?? null,
    end_line: d.end?.line ?? null,
    end_col: d.end?.column ?? null,
    path: d.path,
    message: d.message,
    hint: d.hint ?? null,
    related: (d.related ?? []).map((r) => ({
      file: r.file,
      line: r.position?.line ?? null,
      col: r.position?.column ?? null,
      message: r.message,
    })),
  }));
}

async function check(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const format = oneOf("format", values.format, ["text", "json"]);
  if (positionals.length === 0) {
    throw new UsageError(
      `Cannot run "check" without a spec: usage: ${CMD} check <spec>...`,
    );
  }
  const reports: unknown[] = [];
  let failed = 0;
  for (const spec of positionals) {
    const result = await compileAny(spec, values["allow-read"]);
    if (!result.ok) failed++;
    const ds = result.ok ? result.warnings : result.diagnostics;
    if (format === "json") {
      reports.push({
        spec,
        ok: result.ok,
        spec_hash: result.ok ? result.graph.spec_hash : null,
        diagnostics: jsonDiagnostics(ds),
      });
      continue;
    }
    if (ds.length > 0) console.error(renderDiagnostics(ds, result.sources));
    if (result.ok) {
      const g = result.graph;
      console.log(
        `${spec}: ok: ${g.roles.length} role${
          g.roles.length === 1 ? "" : "s"
        }, ${g.stages.length} stage${
          g.stages.length === 1 ? "" : "s"
        }, spec_hash ${g.spec_hash.slice(0, 12)}`,
      );
    }
  }
  // One spec prints one object; several print an array of them, in argument order.
  if (format === "json") {
    console.log(
      JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2),
    );
  }
  return failed > 0 ? 1 : 0;
}
