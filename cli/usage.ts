import { orList } from "./_args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./exit_codes.ts";

const HEADER =
  "mappa — declare, run, coach and train multi-agent LLM pipelines\n\nUsage:";

const FOOTER =
  `A spec is a YAML/JSON file, or a TS module whose default export is definePipeline({...}); check, graph,
run, train and bundle also take a bundle or an https:// URL of one (or of a YAML spec), pinned with
#sha256=<hex>, and --allow-read PATH (repeatable) to let a local spec read PATH outside its folder.`;

/** The column where descriptions start, whichever way mappa is run. */
const COLUMN = 50;

/**
 * The usage text, generated from the command table: each command's synopsis after `<cmd> <name>`
 * (`deno task` or `mappa`), its description from column 50 (on the next line when the synopsis
 * reaches it).
 */
export function usage(commands: readonly Command[], cmd: string): string {
  const lines = [HEADER];
  for (const c of commands) {
    const prefix = `  ${cmd} ${c.name} `;
    // Lines after the first align under the options of the first (after its positional argument).
    const indent = " ".repeat(prefix.length + c.synopsis[0]!.indexOf(" ") + 1);
    const synopsis = c.synopsis.map((s, i) => (i === 0 ? prefix : indent) + s);
    const description = c.description.map((d) => " ".repeat(COLUMN) + d);
    const last = synopsis.length - 1;
    if (synopsis[last]!.length < COLUMN) {
      synopsis[last] = synopsis[last]!.padEnd(COLUMN) + c.description[0];
      description.shift();
    }
    lines.push(...synopsis, ...description);
  }
  lines.push("", FOOTER);
  return lines.join("\n");
}

/** The error for a word that names no command, listing the commands of the table. */
export function unknownCommand(
  name: string,
  commands: readonly Command[],
): UsageError {
  return new UsageError(
    `Cannot run unknown command "${name}": expected ${
      orList(commands.map((c) => c.name))
    }`,
  );
}
