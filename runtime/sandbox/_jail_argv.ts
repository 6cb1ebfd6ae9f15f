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
  /** Host path of the workspace, bound read-write at /workspace (read-only with `readonlyWorkspace`). */
  readonly workspace: string;
  /** Bind the workspace read-only. @default false */
  readonly readonlyWorkspace?: boolean;
  /** Switch to this uid/gid with setpriv first; null when the runtime is not root. */
  readonly user: { readonly uid: number; readonly gid: number } | null;
  readonly tools: {
    readonly setpriv: string;
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
  /**
   * Host folders shown at `path` from a read-only mirror at `source` in which the hidden entries are
   * emptied (`hideMirrors`): one bind mount for many hidden paths; bound before `hide`.
   */
  readonly mirrors?: readonly {
    readonly path: string;
    readonly source: string;
  }[];
}

const MIB = 1 << 20;

/** One rlimit the launcher sets before anything else runs. */
export interface Rlimit {
  /** prlimit's name of the resource, as in `--cpu=60:61` (what `jailArgv` shows). */
  readonly name: "as" | "cpu" | "nproc" | "fsize" | "nofile" | "core";
  readonly soft: number;
  readonly hard: number;
}

/**
 * The jail's rlimits: RLIMIT_AS for Python only (it cannot bound Deno), CPU (the hard limit one
 * second above the soft, so SIGXCPU comes first), processes, file size, descriptors, no core dumps.
 */
export function jailRlimits(p: JailParams): Rlimit[] {
  const { limits } = p;
  const both = (name: Rlimit["name"], n: number): Rlimit => ({
    name,
    soft: n,
    hard: n,
  });
  return [
    ...(p.language === "python" ? [both("as", limits.memory_mb * MIB)] : []),
    { name: "cpu", soft: limits.cpu_s, hard: limits.cpu_s + 1 },
    both("nproc", p.nproc),
    both("fsize", limits.file_size_mb * MIB),
    both("nofile", p.nofile),
    both("core", 0),
  ];
}

/** The rlimits as prlimit's options (`--cpu=60:61`), for `jailArgv` and `argv_hash`. */
function rlimitFlags(rlimits: readonly Rlimit[]): string[] {
  return rlimits.map((r) =>
    `--${r.name}=${r.soft === r.hard ? r.soft : `${r.soft}:${r.hard}`}`
  );
}

/**
 * `ulimit` builtins of dash (`/bin/sh`) or bash setting `rlimits`, soft then hard, each checked:
 * the shell sets them before its exec, so no process (no `prlimit`) is spent on them. The two
 * shells differ in letters and units: RLIMIT_NPROC is dash's `-p` and bash's `-u`; file size is in
 * 512-byte blocks in dash, 1024-byte ones in bash; address space in KiB in both.
 */
export function ulimitScript(
  rlimits: readonly Rlimit[],
  shell: "dash" | "bash",
): string {
  const spec: Record<Rlimit["name"], { flag: string; unit: number }> = {
    as: { flag: "-v", unit: 1024 },
    cpu: { flag: "-t", unit: 1 },
    nproc: { flag: shell === "dash" ? "-p" : "-u", unit: 1 },
    fsize: { flag: "-f", unit: shell === "dash" ? 512 : 1024 },
    nofile: { flag: "-n", unit: 1 },
    core: { flag: "-c", unit: 1 },
  };
  const steps: string[] = [];
  for (const r of rlimits) {
    const { flag, unit } = spec[r.name];
    for (const [which, n] of [["-S", r.soft], ["-H", r.hard]] as const) {
      if (n % unit !== 0) {
        throw new RangeError(
          `Cannot set RLIMIT ${r.name} to ${n}: not a multiple of ${unit}`,
        );
      }
      steps.push(`ulimit ${which} ${flag} ${n / unit}`);
    }
  }
  return steps.join(" && ");
}

/** setpriv to an unprivileged uid (when the runtime is root), ending with the bwrap binary. */
export function launcherArgv(p: JailParams): string[] {
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
  argv.push(p.tools.bwrap);
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
    ...[
      p.readonlyWorkspace ? "--ro-bind" : "--bind",
      p.workspace,
      JAIL_WORKSPACE,
    ],
    ...(p.mirrors ?? []).flatMap((m) => ["--ro-bind", m.source, m.path]),
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
 * The whole jail as one argument vector, as `argv_hash` and the tests see it: "ulimit" and the
 * rlimits in prlimit's syntax up to "--" (the launcher's shell sets them), then the launcher and
 * bwrap's arguments; `jailCommand` is what actually runs.
 */
export function jailArgv(p: JailParams): string[] {
  return [
    "ulimit",
    ...rlimitFlags(jailRlimits(p)),
    "--",
    ...launcherArgv(p),
    ...bwrapArgs(p),
  ];
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
 * The sh command that sets `rlimits` (the shell's `ulimit` builtins), opens `files` on `JAIL_FD`,
 * closes `closeFds` (descriptors the runtime inherited, which bwrap would pass on to the program)
 * and execs the launcher with `bwrap --args` and the jailed command: sh execs setpriv, which execs
 * bwrap, so the only extra cost is one exec of sh (bash when a descriptor above 9 must be closed:
 * dash cannot). A limit that cannot be set ends the shell with 126 before anything else runs.
 */
export function jailCommand(
  launcher: readonly string[],
  command: readonly string[],
  files: JailFiles,
  closeFds: readonly number[] = [],
  rlimits: readonly Rlimit[] = [],
): { command: string; args: string[] } {
  const f = JAIL_FD;
  const ours = new Set<number>(Object.values(JAIL_FD));
  const close = closeFds.filter((fd) =>
    Number.isInteger(fd) && fd > 2 && !ours.has(fd)
  );
  const bash = close.some((fd) => fd > 9);
  const limit = rlimits.length === 0
    ? ""
    : `{ ${
      ulimitScript(rlimits, bash ? "bash" : "dash")
    }; } || { echo 'mappa: cannot set the jail rlimits' >&2; exit 126; }; `;
  const script =
    `${limit}s=$1 j=$2 p=$3 a=$4; shift 4; exec "$@" ${f.seccomp}<"$s" ${f.status}>>"$j" ${f.program}<"$p" ${f.args}<"$a"${
      close.map((fd) => ` ${fd}>&-`).join("")
    }`;
  return {
    command: bash ? "/bin/bash" : "/bin/sh",
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
