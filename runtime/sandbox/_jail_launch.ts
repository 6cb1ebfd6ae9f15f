import type { ExecRequest } from "../ports.ts";
import {
  bwrapArgs,
  jailCommand,
  type JailParams,
  jailRlimits,
  launcherArgv,
  splitBwrapArgs,
} from "./_jail_argv.ts";
import { type JailFileSet, writeJailFiles } from "./_program_file.ts";

/** What every jail of a sandbox shares: its seccomp filter and the runtime's descriptors to close. */
export interface JailHost {
  readonly seccomp: string;
  readonly inherited: readonly number[];
}

/** The program a jail runs; `command` replaces the jailed command (the host probe runs /usr/bin/true). */
export interface JailProgram {
  readonly code: string;
  readonly language: ExecRequest["language"];
  readonly command?: readonly string[];
}

/** A jail ready to start: the host files it reads (the caller disposes them) and the command to spawn. */
export interface JailLaunch {
  readonly files: JailFileSet;
  readonly command: string;
  readonly args: string[];
}

/**
 * Writes the files the jail of `params` reads (the program, bwrap's options, its status file) and builds
 * the command that starts it: the launcher's shell with the rlimits, then bwrap with the jailed command.
 */
export async function prepareJail(
  params: JailParams,
  program: JailProgram,
  host: JailHost,
): Promise<JailLaunch> {
  const { options, command } = splitBwrapArgs(bwrapArgs(params));
  const files = await writeJailFiles(program.code, program.language, options);
  return {
    files,
    ...jailCommand(
      launcherArgv(params),
      program.command ?? command,
      { seccomp: host.seccomp, ...files },
      host.inherited,
      jailRlimits(params),
    ),
  };
}
