/** Fields of a `SandboxError` beyond its message. */
export interface SandboxErrorOptions extends ErrorOptions {
  /** The command that failed, when one ran. */
  readonly command?: readonly string[];
  readonly exitCode?: number | null;
  /** The end of its stderr. */
  readonly stderrTail?: string;
}

/**
 * The sandbox cannot run code at all (a broken environment, e.g. bubblewrap missing): thrown, never
 * returned, so a run fails closed instead of running agent code unisolated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SandboxError } from "./sandbox_error.ts";
 * const e = new SandboxError("Cannot start bwrap", { command: ["bwrap"], exitCode: 1 });
 * assert(e.name === "SandboxError" && e.exitCode === 1 && e.stderrTail === "");
 * ```
 */
export class SandboxError extends Error {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SandboxError";
    this.command = options.command ?? [];
    this.exitCode = options.exitCode ?? null;
    this.stderrTail = options.stderrTail ?? "";
  }
}
