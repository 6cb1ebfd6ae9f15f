// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { parseArgs } from "node:util";
import {
  compileFile,
  compileModule,
  type CompileResult,
  type Diagnostic,
  renderDiagnostics,
  schemaFiles,
  toDot,
  toMermaid,
} from "./dsl/mod.ts";

const USAGE = `mappa — declare, run, coach and train multi-agent LLM pipelines

Usage:
  deno task check <spec>... [--format text|json]  validate specs; exit 0 ok, 1 invalid, 2 usage
  deno task graph <spec> [--format mermaid|dot|json]
                                                  print the execution graph
  deno task schema [--out DIR] [--check]          write (or check) schema/*.schema.json
  deno task run <spec>                            run a pipeline over its dataset (not built yet)

A spec is a YAML/JSON file, or a TS module whose default export is definePipeline({...}).`;

const SCHEMA_DIR = "schema";

/** Exit codes: 0 ok, 1 spec invalid, 2 usage or run failed, 3 internal error. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function compileAny(path: string): Promise<CompileResult> {
  return /\.(ts|mts|js|mjs)$/.test(path)
    ? compileModule(path)
    : Promise.resolve(compileFile(path));
}

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

function specArg(positionals: string[], command: string): string {
  const spec = positionals[0];
  if (spec === undefined) {
    throw new UsageError(
      `Cannot run "${command}" without a spec: usage: deno task ${command} <spec>`,
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

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: "string", default: "text" } },
  });
  const format = values.format;
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `Cannot use --format "${format}": expected text or json`,
    );
  }
  if (positionals.length === 0) {
    throw new UsageError(
      'Cannot run "check" without a spec: usage: deno task check <spec>...',
    );
  }
  const reports: unknown[] = [];
  let failed = 0;
  for (const spec of positionals) {
    const result = await compileAny(spec);
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

async function graph(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: "string", default: "mermaid" } },
  });
  const format = values.format;
  if (format !== "mermaid" && format !== "dot" && format !== "json") {
    throw new UsageError(
      `Cannot use --format "${format}": expected mermaid, dot or json`,
    );
  }
  const result = await compileAny(specArg(positionals, "graph"));
  if (!result.ok) {
    console.error(renderDiagnostics(result.diagnostics, result.sources));
    return 1;
  }
  const text = format === "mermaid"
    ? toMermaid(result.graph)
    : format === "dot"
    ? toDot(result.graph)
    : JSON.stringify(result.graph, null, 2) + "\n";
  await Deno.stdout.write(new TextEncoder().encode(text));
  return 0;
}

async function schema(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: SCHEMA_DIR },
      check: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Cannot use arguments ${
        positionals.join(", ")
      } with schema: it takes only --out and --check`,
    );
  }
  let stale = 0;
  for (const [name, text] of Object.entries(schemaFiles())) {
    const file = `${values.out}/${name}`;
    if (values.check) {
      let current: string | undefined;
      try {
        current = await Deno.readTextFile(file);
      } catch {
        current = undefined;
      }
      if (current !== text) {
        console.error(`Cannot use ${file}: it is stale; run deno task schema`);
        stale++;
      }
      continue;
    }
    await Deno.mkdir(values.out, { recursive: true });
    await Deno.writeTextFile(file, text);
    console.log(`wrote ${file}`);
  }
  if (values.check && stale === 0) console.log(`${values.out}/ is up to date`);
  return stale > 0 ? 1 : 0;
}

async function run(args: string[]): Promise<number> {
  const { positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
  });
  const spec = specArg(positionals, "run");
  const result = await compileAny(spec);
  if (!result.ok) {
    console.error(renderDiagnostics(result.diagnostics, result.sources));
    return 1;
  }
  const g = result.graph;
  console.log(
    `${spec}: compiled: ${g.roles.map((r) => r.id).join(" -> ")} (stages: ${
      g.stages.map((s) => s.join(" + ")).join(" | ")
    })`,
  );
  console.error(
    "mappa run: the runtime is not built yet, so nothing was run; `deno task check` and `deno task graph` work today",
  );
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (
    command !== undefined && (rest.includes("--help") || rest.includes("-h"))
  ) {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case "check":
      return await check(rest);
    case "graph":
      return await graph(rest);
    case "schema":
      return await schema(rest);
    case "run":
      return await run(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `Cannot run unknown command "${command}": expected check, graph, schema or run`,
      );
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    // Never a stack trace: usage problems and bad arguments are the user's to fix; anything else is ours.
    const known = e instanceof UsageError ||
      (e instanceof TypeError &&
        (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
    let message = e instanceof Error ? e.message : String(e);
    const option = /^Unknown option '([^']+)'/.exec(message);
    if (option) {
      message = `Cannot use option "${
        option[1]
      }": it is not an option of this command; see deno task ${
        Deno.args[0] ?? ""
      } --help`.replace("  ", " ");
    }
    console.error(
      known
        ? `mappa: ${message}`
        : `mappa: internal error: ${message} (please report this with the spec that caused it)`,
    );
    code = known ? 2 : 3;
  }
  Deno.exit(code);
}
