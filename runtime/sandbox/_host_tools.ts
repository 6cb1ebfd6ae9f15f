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

const O_CLOEXEC = 0o2000000;

/**
 * Descriptors above 2 that this process holds without close-on-exec: ones it inherited (from a
 * shell, CI harness or service manager), which every spawned process would inherit in turn. Deno
 * opens its own with close-on-exec, so the set is fixed from startup. Empty where /proc is absent.
 */
export function inheritedDescriptors(): number[] {
  const out: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc/self/fd")];
  } catch {
    return out;
  }
  for (const e of entries) {
    const fd = Number(e.name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
      const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) {
        out.push(fd);
      }
    } catch {
      // closed meanwhile (e.g. the descriptor of the directory listing itself)
    }
  }
  return out.sort((a, b) => a - b);
}
