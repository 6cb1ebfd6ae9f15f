// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { schemaFiles } from "../dsl/mod.ts";
import { CMD, type Command, type CommandValues } from "./command.ts";
import { UsageError } from "./exit_codes.ts";

const OPTIONS = {
  out: { type: "string", default: "schema" },
  check: { type: "boolean", default: false },
} as const;

/** `schema`: writes (or, with --check, checks) schema/*.schema.json. */
export const SCHEMA: Command<typeof OPTIONS> = {
  name: "schema",
  synopsis: ["[--out DIR] [--check]"],
  description: ["write (or check) schema/*.schema.json"],
  options: OPTIONS,
  run: schema,
};

async function schema(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
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
        console.error(`Cannot use ${file}: it is stale; run ${CMD} schema`);
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
