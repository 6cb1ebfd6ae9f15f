import type { ParseArgsConfig } from "node:util";

/**
 * How the user runs mappa, for usage and hints: `deno task` in the repository (deno task sets
 * INIT_CWD), else the installed `mappa` command.
 */
export const CMD: string = Deno.env.get("INIT_CWD") !== undefined
  ? "deno task"
  : "mappa";

/** The options of a command, as `node:util` `parseArgs` takes them. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * One `mappa` command, declared once: the dispatcher runs it, and the usage text and the
 * unknown-command message are generated from the table of them (cli/mod.ts), so they cannot drift.
 */
export interface Command {
  /** The word after `mappa` (or `deno task`). */
  readonly name: string;
  /** What follows the name in the usage text, one string per line. */
  readonly synopsis: readonly string[];
  /** What the command does, one string per usage line. */
  readonly description: readonly string[];
  /** Its options (each one shown in the synopsis, `--allow-read` in the usage text's footer). */
  readonly options: CommandOptions;
  /** Runs the command on its arguments (after the name) and returns the exit code. */
  run(args: string[]): Promise<number>;
}

/** The `--allow-read` option every command taking a spec accepts (repeatable). */
export const ALLOW_READ = {
  "allow-read": { type: "string", multiple: true },
} as const;
