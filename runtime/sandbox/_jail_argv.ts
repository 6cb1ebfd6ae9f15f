import type { ExecLimits, ExecRequest } from "../ports.ts";

/** Where the program and the Deno binary appear inside the jail. */
export const JAIL_WORKSPACE = "/workspace";
export const JAIL_DENO = "/opt/deno";

/** V8's old-space bound for TypeScript programs: RLIMIT_AS cannot bound Deno (reference/sandbox.md §2.2). */
export const DENO_HEAP_MIN_MB = 128;
export const DENO_HEAP_MAX_MB = 4096;

/** The program's path inside the jail. */
export function jailProgramPath(language: ExecRequest["language"]): string {
  return language === "python" ? "/run/main.py" : "/run/main.ts";
}

/** The V8 heap bound for a TypeScript program: `memory_mb` clamped to [128, 4096]. */
export function denoHeapMb(memoryMb: number): number {
  return Math.min(DENO_HEAP_MAX_MB, Math.max(DENO_HEAP_MIN_MB, memoryMb));
}

/**
 * `deno run` with reads and writes scoped to the workspace and nothing else: never -A, --allow-run,
 * --allow-ffi, --allow-net, --allow-env or --allow-sys (reference/sandbox.md §2.4, §3.7 item 15).
 */
export function denoRunArgs(
  workspace: string,
  program: string,
  memoryMb: number,
): string[] {
  return [
    "run",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    `--v8-flags=--max-old-space-size=${denoHeapMb(memoryMb)}`,
    `--allow-read=${workspace}`,
    `--allow-write=${workspace}`,
    program,
  ];
}

/** The fixed environment of every jailed program (`--clearenv` first). */
export function jailEnv(
  language: ExecRequest["language"],
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/bin",
    HOME: JAIL_WORKSPACE,
    TMPDIR: "/tmp",
    LANG: "C.UTF-8",
    MPLCONFIGDIR: "/tmp",
    MPLBACKEND: "Agg",
    OMP_NUM_THREADS: "1",
    OPENBLAS_NUM_THREADS: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  if (language === "typescript") {
    Object.assign(env, {
      DENO_DIR: "/tmp/deno",
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    });
  }
  return env;
}

/**
 * The descriptors the launcher opens for bwrap (bwrap reads and closes each before the program runs,
 * so none reaches it): the seccomp program, bwrap's JSON status (written by bwrap's monitor, outside
 * the jail), the program's text and bwrap's own arguments.
 */
export const JAIL_FD = { seccomp: 3, status: 4, program: 5, args: 6 } as const;

/** Host files behind `JAIL_FD`, opened by the launcher (as the runtime's user, before any uid switch). */
export interface JailFiles {
  /** The BPF program (runtime/sandbox/seccomp/<arch>.bpf). */
  readonly seccomp: string;
  /** Created empty by the host; bwrap appends its `child-pid` and, once the program was exec'd, `exit-code`. */
  readonly status: string;
  readonly program: string;
  /** bwrap's options (`splitBwrapArgs`), each ended by a NUL byte. */
  readonly args: string;
}

/** Everything the jail command depends on. */
export interface JailParams {
  readonly language: ExecRequest["language"];
  readonly limits: ExecLimits;
  /** Host path of the workspace, bound read-write at /workspace. */
  readonly workspace: string;
  /** Switch to this uid/gid with setpriv first; null when the runtime is not root. */
  readonly user: { readonly uid: number; readonly gid: number } | null;
  readonly tools: {
    readonly setpriv: string;
    readonly prlimit: string;
    readonly bwrap: string;
    readonly python: string;
    readonly deno: string;
  };
  readonly tmpMb: number;
  readonly shmMb: number;
  readonly nofile: number;
  /** RLIMIT_NPROC; without a uid switch, the caller adds the runtime user's current task count. */
  readonly nproc: number;
  /**
   * Paths the jail shows empty, as seen inside it (under /usr, /etc or /workspace): a folder is covered by
   * an empty read-only tmpfs, a file by /dev/null (bound nodev, so opening it fails with EACCES).
   */
  readonly hide?: readonly { readonly path: string; readonly dir: boolean }[];
}

const MIB = 1 << 20;

/** setpriv to an unprivileged uid, then prlimit, ending with the bwrap binary. */
export function launcherArgv(p: JailParams): string[] {
  const { limits } = p;
  const argv: string[] = [];
  if (p.user !== null) {
    argv.push(
      p.tools.setpriv,
      `--reuid=${p.user.uid}`,
      `--regid=${p.user.gid}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--",
    );
  }
  argv.push(p.tools.prlimit);
  if (p.language === "python") argv.push(`--as=${limits.memory_mb * MIB}`);
  argv.push(
    `--cpu=${limits.cpu_s}:${limits.cpu_s + 1}`,
    `--nproc=${p.nproc}`,
    `--fsize=${limits.file_size_mb * MIB}`,
    `--nofile=${p.nofile}`,
    "--core=0",
    "--",
    p.tools.bwrap,
  );
  return argv;
}

/**
 * bwrap's arguments, read from `JAIL_FD.args` so that no host path is in any jailed process's
 * /proc/<pid>/cmdline: a minimal read-only root, private sized /tmp and /dev/shm, no network, a fixed
 * environment, the seccomp filter, the program's text copied in from a descriptor.
 */
export function bwrapArgs(p: JailParams): string[] {
  const program = jailProgramPath(p.language);
  const argv = [
    ...["--unshare-all", "--unshare-user", "--disable-userns"],
    ...[
      "--die-with-parent",
      "--new-session",
      "--clearenv",
      "--cap-drop",
      "ALL",
    ],
    ...["--seccomp", String(JAIL_FD.seccomp)],
    ...["--json-status-fd", String(JAIL_FD.status)],
    ...["--ro-bind", "/usr", "/usr"],
    ...["--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"],
    ...["--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin"],
    ...["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"],
    ...["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"],
    ...["--ro-bind", "/etc/passwd", "/etc/passwd"],
    ...["--ro-bind", "/etc/group", "/etc/group"],
    ...["--ro-bind-try", "/etc/localtime", "/etc/localtime"],
    // Debian's matplotlib reads its defaults only from /etc/matplotlibrc; fontconfig its /etc/fonts.
    ...["--ro-bind-try", "/etc/matplotlibrc", "/etc/matplotlibrc"],
    ...["--ro-bind-try", "/etc/fonts", "/etc/fonts"],
    ...["--proc", "/proc", "--dev", "/dev"],
    ...["--size", String(p.shmMb * MIB), "--tmpfs", "/dev/shm"],
    ...["--size", String(p.tmpMb * MIB), "--tmpfs", "/tmp"],
    ...["--perms", "0444", "--ro-bind-data", String(JAIL_FD.program), program],
  ];
  if (p.language === "typescript") {
    argv.push("--ro-bind", p.tools.deno, JAIL_DENO);
  }
  argv.push(
    ...["--bind", p.workspace, JAIL_WORKSPACE],
    // After the workspace, so that paths inside it can be hidden too.
    ...(p.hide ?? []).flatMap((h) =>
      h.dir
        ? ["--perms", "0555", "--size", "4096", "--tmpfs", h.path]
        : ["--ro-bind", "/dev/null", h.path]
    ),
    ...["--chdir", JAIL_WORKSPACE],
    ...["--remount-ro", "/dev", "--remount-ro", "/"],
  );
  for (const [k, v] of Object.entries(jailEnv(p.language))) {
    argv.push("--setenv", k, v);
  }
  argv.push("--");
  if (p.language === "python") {
    argv.push(p.tools.python, "-I", program);
  } else {
    argv.push(
      JAIL_DENO,
      ...denoRunArgs(JAIL_WORKSPACE, program, p.limits.memory_mb),
    );
  }
  return argv;
}

/**
 * The whole jail as one argument vector (the launcher, then bwrap's arguments), as `argv_hash`
 * and the tests see it; `jailCommand` is what actually runs.
 */
export function jailArgv(p: JailParams): string[] {
  return [...launcherArgv(p), ...bwrapArgs(p)];
}

/**
 * bwrap's options (for the `--args` file: bwrap reads only options there) and the jailed command
 * (`--` and what follows, left on the command line: it holds no host path).
 */
export function splitBwrapArgs(
  args: readonly string[],
): { options: string[]; command: string[] } {
  const sep = args.indexOf("--");
  if (sep < 0) throw new RangeError("Cannot split bwrap arguments: no --");
  return { options: args.slice(0, sep), command: args.slice(sep) };
}

/**
 * The sh command that opens `files` on `JAIL_FD`, closes `closeFds` (descriptors the runtime
 * inherited, which bwrap would pass on to the program) and execs the launcher with `bwrap --args`
 * and the jailed command: sh execs setpriv, which execs prlimit, which execs bwrap, so the only
 * extra cost is one exec of sh (bash when a descriptor above 9 must be closed: dash cannot).
 */
export function jailCommand(
  launcher: readonly string[],
  command: readonly string[],
  files: JailFiles,
  closeFds: readonly number[] = [],
): { command: string; args: string[] } {
  const f = JAIL_FD;
  const ours = new Set<number>(Object.values(JAIL_FD));
  const close = closeFds.filter((fd) =>
    Number.isInteger(fd) && fd > 2 && !ours.has(fd)
  );
  const script =
    `s=$1 j=$2 p=$3 a=$4; shift 4; exec "$@" ${f.seccomp}<"$s" ${f.status}>>"$j" ${f.program}<"$p" ${f.args}<"$a"${
      close.map((fd) => ` ${fd}>&-`).join("")
    }`;
  return {
    command: close.some((fd) => fd > 9) ? "/bin/bash" : "/bin/sh",
    args: [
      "-c",
      script,
      "mappa-jail",
      files.seccomp,
      files.status,
      files.program,
      files.args,
      ...launcher,
      "--args",
      String(f.args),
      ...command,
    ],
  };
}
