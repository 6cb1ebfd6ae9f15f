/** What a `cli.ts` subprocess printed and how it exited. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cli.ts` as a user would, in a fresh Deno process with colour off. Permissions are those of
 * deno.json's tasks: `run`, `rescore`, `compare`, `report` and `train` get all; the others read and write
 * files and fetch (a spec URL). `env` adds variables to the parent's environment.
 */
export async function runCli(
  args: string[],
  cwd = Deno.cwd(),
  env: Readonly<Record<string, string>> = {},
): Promise<Ran> {
  const everything = ["run", "rescore", "compare", "report", "train"].includes(
    args[0]!,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(everything
        ? ["-A"]
        : ["--allow-read", "--allow-env", "--allow-write", "--allow-net"]),
      `${Deno.cwd()}/cli.ts`,
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
    // As under `deno task` (which sets INIT_CWD), so hints name `deno task` however the tests run.
    env: { NO_COLOR: "1", INIT_CWD: cwd, ...env },
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
