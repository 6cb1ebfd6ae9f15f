import { SandboxError } from "./sandbox_error.ts";

const INSTALL_HINT: Readonly<Record<string, string>> = {
  bwrap: "apt-get install -y bubblewrap",
  setpriv: "apt-get install -y util-linux",
  prlimit: "apt-get install -y util-linux",
};

/** Throws `SandboxError` naming the apt package unless `path` is an executable file. */
export async function requireTool(name: string, path: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return;
  } catch {
    // reported below
  }
  throw new SandboxError(
    `Cannot start the bwrap sandbox: "${path}" (${name}) is missing; install it with "${
      INSTALL_HINT[name]
    }"`,
    { command: [path] },
  );
}

/** The trimmed stdout of a short host command. */
export async function toolOutput(
  path: string,
  args: string[],
): Promise<string> {
  const out = await new Deno.Command(path, {
    args,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
