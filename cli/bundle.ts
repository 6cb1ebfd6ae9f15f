// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { renderDiagnostics, sha256Hex } from "../dsl/mod.ts";
import { specArg } from "./_args.ts";
import { ALLOW_READ, type Command, type CommandValues } from "./command.ts";
import { bundleSpecArg } from "./spec_arg.ts";

const OPTIONS = {
  out: { type: "string", short: "o" },
  "no-data": { type: "boolean", default: false },
  ...ALLOW_READ,
} as const;

/** `bundle <spec>`: writes the spec and every file it reads as one file, with the pin to use it by. */
export const BUNDLE: Command<typeof OPTIONS> = {
  name: "bundle",
  synopsis: ["<spec> [-o FILE] [--no-data]"],
  description: ["write the spec and every file it reads as one file"],
  options: OPTIONS,
  run: bundle,
};

async function bundle(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const spec = specArg(positionals, "bundle");
  const made = await bundleSpecArg(spec, {
    warn: (line) => console.error(line),
    noData: values["no-data"],
    ...(values["allow-read"] ? { allowRead: values["allow-read"] } : {}),
  });
  if (!made.ok) {
    const c = made.compiled;
    console.error(renderDiagnostics(c.diagnostics, c.sources));
    return 1;
  }
  const out = values.out;
  if (out === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(made.text));
  } else {
    await Deno.writeTextFile(out, made.text);
  }
  console.error(
    `${spec}: bundled ${made.files.length} file${
      made.files.length === 1 ? "" : "s"
    } (${made.bytes} bytes)${
      out === undefined ? "" : ` into ${out}`
    }; pin it: #sha256=${sha256Hex(made.text)}`,
  );
  return 0;
}
