import { toDot, toMermaid } from "../dsl/mod.ts";
import { compileReported, oneOf, specArg } from "./_args.ts";
import { ALLOW_READ, type Command, type CommandValues } from "./command.ts";

const OPTIONS = {
  format: { type: "string", default: "mermaid" },
  ...ALLOW_READ,
} as const;

/** `graph <spec>`: prints the execution graph as Mermaid, DOT or JSON. */
export const GRAPH: Command<typeof OPTIONS> = {
  name: "graph",
  synopsis: ["<spec> [--format mermaid|dot|json]"],
  description: ["print the execution graph"],
  options: OPTIONS,
  run: graph,
};

async function graph(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const format = oneOf("format", values.format, ["mermaid", "dot", "json"]);
  const compiled = await compileReported(
    specArg(positionals, "graph"),
    values["allow-read"],
  );
  if (compiled === null) return 1;
  const text = format === "mermaid"
    ? toMermaid(compiled)
    : format === "dot"
    ? toDot(compiled)
    : JSON.stringify(compiled, null, 2) + "\n";
  await Deno.stdout.write(new TextEncoder().encode(text));
  return 0;
}
