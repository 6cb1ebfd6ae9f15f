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

/** Everything the jail command depends on. */
export interface JailParams {
  readonly language: ExecRequest["language"];
  readonly limits: ExecLimits;
  /** Host path of the workspace, bound read-write at /workspace. */
  readonly workspace: string;
  /** Host path of the program file, bound read-only at /run/main.py or /run/main.ts. */
  readonly program: string;
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
  /** Host paths under /usr the jail hides: a folder is covered by an empty read-only tmpfs, a file by /dev/null. */
  readonly hide?: readonly { readonly path: string; readonly dir: boolean }[];
}

const MIB = 1 << 20;

/**
 * The exact jail of reference/sandbox.md §2.6: setpriv to an unprivileged uid, prlimit, then bwrap
 * with a minimal read-only root, private sized /tmp and /dev/shm, no network and a fixed environment.
 */
export function jailArgv(p: JailParams): string[] {
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
  );
  const program = jailProgramPath(p.language);
  argv.push(
    p.tools.bwrap,
    ...["--unshare-all", "--unshare-user", "--disable-userns"],
    ...[
      "--die-with-parent",
      "--new-session",
      "--clearenv",
      "--cap-drop",
      "ALL",
    ],
    ...["--ro-bind", "/usr", "/usr"],
    ...(p.hide ?? []).flatMap((h) =>
      h.dir
        ? ["--perms", "0555", "--size", "4096", "--tmpfs", h.path]
        : ["--ro-bind", "/dev/null", h.path]
    ),
    ...["--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"],
    ...["--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin"],
    ...["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"],
    ...["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"],
    ...["--ro-bind", "/etc/passwd", "/etc/passwd"],
    ...["--ro-bind", "/etc/group", "/etc/group"],
    ...["--ro-bind-try", "/etc/localtime", "/etc/localtime"],
    ...["--proc", "/proc", "--dev", "/dev"],
    ...["--size", String(p.shmMb * MIB), "--tmpfs", "/dev/shm"],
    ...["--size", String(p.tmpMb * MIB), "--tmpfs", "/tmp"],
    ...["--ro-bind", p.program, program],
  );
  if (p.language === "typescript") {
    argv.push("--ro-bind", p.tools.deno, JAIL_DENO);
  }
  argv.push(
    ...["--bind", p.workspace, JAIL_WORKSPACE, "--chdir", JAIL_WORKSPACE],
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
      ...denoRunArgs(JAIL_WORKSPACE, program, limits.memory_mb),
    );
  }
  return argv;
}
