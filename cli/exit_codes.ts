import { SpecArgError } from "./spec_arg.ts";
import {
  DatasetError,
  PreflightError,
  RunStoreError,
  SandboxError,
} from "../runtime/mod.ts";
import { RubricFileError } from "../dsl/mod.ts";
import { ScoreLayerError } from "../coaches/mod.ts";
import { MetricsError, TrainerError } from "../training/mod.ts";

/** The exit codes of every command: 0 ok, 1 spec invalid or work failed, 2 usage or run failed, 3 internal error, 130 interrupted. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  internal: 3,
  interrupted: 130,
} as const;

/** A command line that cannot be used (missing spec, bad option value); the CLI prints it and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The one table from error classes to exit codes: these are the user's or the machine's to fix
 * (a bad argument, a dataset, a run directory, a trainer, a missing file, a jail that cannot start);
 * the CLI prints their message and exits with the code. Any other error is an internal error (3).
 */
const EXIT_CODES: readonly (readonly [ErrorClass, number])[] = [
  [UsageError, EXIT.usage],
  [SpecArgError, EXIT.usage],
  [DatasetError, EXIT.usage],
  [RunStoreError, EXIT.usage],
  [PreflightError, EXIT.usage],
  [SandboxError, EXIT.usage],
  [TrainerError, EXIT.usage],
  [MetricsError, EXIT.usage],
  [ScoreLayerError, EXIT.usage],
  [RubricFileError, EXIT.usage],
  [Deno.errors.PermissionDenied, EXIT.usage],
  [Deno.errors.NotFound, EXIT.usage],
  [Deno.errors.AlreadyExists, EXIT.usage],
  [Deno.errors.NotADirectory, EXIT.usage],
];

/**
 * Messages that make any other error the user's (exit 2): a refusal in house style ("Cannot …"),
 * a local trainer that does not start, a full or read-only disk.
 */
const USER_MESSAGE =
  /^(Cannot|The local trainer)|No space left|Read-only file system|os error 28|os error 30/;

/** Messages of the JavaScript engine itself, which are bugs of ours whatever their wording. */
const ENGINE_MESSAGE =
  /^Cannot (read|set) properties of|^Maximum call stack size exceeded/;

/**
 * The exit code for an error a command threw: from the table, 2 for a `parseArgs` refusal, a
 * `RangeError` or a user's message, else 3 (an internal error).
 */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof Error)) return EXIT.internal;
  for (const [cls, code] of EXIT_CODES) if (e instanceof cls) return code;
  if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    return EXIT.usage;
  }
  if (ENGINE_MESSAGE.test(e.message)) return EXIT.internal;
  if (e instanceof RangeError || USER_MESSAGE.test(e.message)) {
    return EXIT.usage;
  }
  return EXIT.internal;
}
