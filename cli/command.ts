import type { parseArgs, ParseArgsConfig } from "node:util";

/**
 * How the user runs mappa, for usage and hints: `deno task` in the repository (deno task sets
 * INIT_CWD), else the installed `mappa` command.
 */
export const CMD: string = Deno.env.get("INIT_CWD") !== undefined
  ? "deno task"
  : "mappa";

/** The options of a command, as `node:util` `parseArgs` takes them. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/** The option values `parseArgs` makes of a command's arguments, typed from its options `O`. */
export type CommandValues<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true }>
>["values"];

/**
 * One `mappa` command, declared once: the dispatcher runs it, and the usage text and the
 * unknown-command message are generated from the table of them (cli/mod.ts), so they cannot drift.
 */
export interface Command<O extends CommandOptions = CommandOptions> {
  /** The word after `mappa` (or `deno task`). */
  readonly name: string;
  /** What follows the name in the usage text, one string per line. */
  readonly synopsis: readonly string[];
  /** What the command does, one string per usage line. */
  readonly description: readonly string[];
  /**
   * Its options (each one shown in the synopsis, `--allow-read` in the usage text's footer): the
   * dispatcher parses the arguments after the name with them.
   */
  readonly options: O;
  /** Runs the command on its parsed option values and positional arguments; returns the exit code. */
  run(values: CommandValues<O>, positionals: string[]): Promise<number>;
}

/** The `--allow-read` option every command taking a spec accepts (repeatable). */
export const ALLOW_READ = {
  "allow-read": { type: "string", multiple: true },
} as const;

/**
 * The options of both commands that run episodes (`run` and `train`): where runs go, which run to
 * resume, how many episodes at once, the sandbox's uids or none, and `--allow-read`.
 */
export const EPISODE_OPTIONS = {
  resume: { type: "string" },
  out: { type: "string", default: "runs" },
  concurrency: { type: "string" },
  "sandbox-uid-base": { type: "string" },
  "unsafe-no-sandbox": { type: "boolean", default: false },
  ...ALLOW_READ,
} as const;
