// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
/**
 * The `mappa` command: one file per command, each declaring its name, synopsis, options and
 * description once; this table dispatches them and generates the usage text and the unknown-command
 * message from them; cli/exit_codes.ts maps every command's errors to exit codes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BUNDLE } from "./bundle.ts";
import { CHECK } from "./check.ts";
import { CMD, type Command } from "./command.ts";
import { COMPARE } from "./compare.ts";
import { EXIT, exitCodeOf } from "./exit_codes.ts";
import { GRAPH } from "./graph.ts";
import { REPORT } from "./report.ts";
import { RESCORE } from "./rescore.ts";
import { RUN } from "./run.ts";
import { SCHEMA } from "./schema.ts";
import { TRAIN } from "./train.ts";
import { unknownCommand, usage } from "./usage.ts";

/** Every command, in the order the usage text lists them. */
export const COMMANDS: readonly Command[] = [
  CHECK,
  GRAPH,
  SCHEMA,
  RUN,
  TRAIN,
  RESCORE,
  COMPARE,
  REPORT,
  BUNDLE,
];

async function dispatch(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (
    name === undefined || name === "help" || name === "--help" ||
    name === "-h" || rest.includes("--help") || rest.includes("-h")
  ) {
    console.log(usage(COMMANDS, CMD));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw unknownCommand(name, COMMANDS);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: command.options,
  });
  return await command.run(values, positionals);
}

/** What stderr says about an error a command threw: the user's to fix, or ours to report. */
function errorLine(e: unknown, code: number, command: string): string {
  let message = e instanceof Error ? e.message : String(e);
  const option = /^Unknown option '([^']+)'/.exec(message);
  if (option) {
    message = `Cannot use option "${
      option[1]
    }": it is not an option of this command; see ${CMD} ${command} --help`
      .replace("  ", " ");
  }
  return code === EXIT.internal
    ? `mappa: internal error: ${message} (please report this with the spec that caused it)`
    : `mappa: ${message}`;
}

/**
 * Runs the `mappa` command line `argv` (the arguments after the program) and returns its exit code;
 * never throws: an error is printed as one line (never a stack trace) with its code from cli/exit_codes.ts.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    const code = exitCodeOf(e);
    console.error(errorLine(e, code, argv[0] ?? ""));
    return code;
  }
}
