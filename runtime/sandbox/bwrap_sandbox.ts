import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import type { ExecRequest, ExecResult, Sandbox } from "../ports.ts";
import { chownWorkspace } from "../workspace/chown_workspace.ts";
import { JAIL_WORKSPACE, jailArgv, type JailParams } from "./_jail_argv.ts";
import { type JailHost, prepareJail } from "./_jail_launch.ts";
import { type JailFileSet, parseJailStatus } from "./_program_file.ts";
import { prepareSeccompPrograms, seccompProgramPath } from "./_seccomp.ts";
import { hideMirrors } from "./_hide_mirror.ts";
import { runProcess } from "./_run_process.ts";
import { checkLimits } from "./_check_limits.ts";
import { firstBlockedDir } from "./_traversable.ts";
import {
  inheritedDescriptors,
  requireTool,
  toolOutput,
} from "./_host_tools.ts";
import { killJail } from "./_kill_jail.ts";
import { type CgroupHost, probeCgroups } from "./_cgroup.ts";
import { type Enforcement, withJailLimits } from "./_cgroup_jail.ts";
import { threadCountOfUid, waitForNoProcesses } from "./_uid_processes.ts";
import {
  type BwrapSandboxOptions,
  resolveBwrapSandboxOptions,
  type ResolvedBwrapSandboxOptions,
} from "./bwrap_sandbox_options.ts";
import { SandboxError } from "./sandbox_error.ts";

export type { BwrapSandboxOptions, ResolvedBwrapSandboxOptions };

/** Which guarantees hold on this host, found by `BwrapSandbox.create` (reference/sandbox.md §3.1). */
export interface SandboxGuarantees {
  readonly bwrap_version: string;
  /** Programs run as an unprivileged uid (the runtime is root), so RLIMIT_NPROC binds per slot. */
  readonly uid_switch: boolean;
  /** Memory, processes and CPU bound the whole jail through cgroups (else rlimits per process). */
  readonly cgroup_limits: boolean;
  /** Which mechanism enforces them: cgroup v1, v2, or per-process rlimits only. */
  readonly limits: Enforcement;
  /** Why there are no per-jail limits here, as one line for the user; absent when there are. */
  readonly limits_warning?: string;
}

const BACKEND = "bwrap-v1";

/**
 * Runs agent Python and TypeScript in an unprivileged bubblewrap jail with rlimits, exactly the
 * command of reference/sandbox.md §2.6: no network, a read-only minimal root, the workspace as the
 * only writable host path, private /tmp, a wall-clock kill of the whole jail. Every jail loads the
 * seccomp filter of runtime/sandbox/seccomp (tools/seccomp_gen.py); bwrap reads its options, the
 * program's text and the filter from descriptors, so no host path is in a jailed process's argv;
 * `sandbox_error` comes only from bwrap's `--json-status-fd` (no "exit-code": the program never
 * started), never from what the program printed. Create it with `BwrapSandbox.create()`, which
 * fails closed when bubblewrap cannot run.
 *
 * As root, slot n runs as uid `uidBase + n` (gid `gid`), and before each execution the workspace is
 * lchown'ed to that uid, so only the executing slot can write it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BwrapSandbox } from "./bwrap_sandbox.ts";
 * const sandbox = await BwrapSandbox.create();
 * const workspace = await Deno.makeTempDir();
 * await Deno.chmod(workspace, 0o755);
 * const result = await sandbox.exec({
 *   language: "python",
 *   code: "print(6 * 7)",
 *   workspace,
 *   limits: {
 *     wall_ms: 10_000, cpu_s: 10, memory_mb: 512, output_cap_bytes: 65_536,
 *     kill_output_bytes: 1 << 20, file_size_mb: 16, nproc: 32,
 *   },
 * });
 * assert.equal(result.stdout.text, "42\n");
 * assert.match(result.backend, /^bwrap-v1\+(cg1|cg2|rlimit)$/);
 * await Deno.remove(workspace, { recursive: true });
 * ```
 */
export class BwrapSandbox implements Sandbox {
  /** "bwrap-v1+cg1", "+cg2" or "+rlimit": the jail and what bounds its memory, processes and CPU. */
  readonly backend: string;
  readonly options: ResolvedBwrapSandboxOptions;
  readonly guarantees: SandboxGuarantees;
  /** The host's seccomp program (throws here on an architecture without one). */
  readonly #seccomp: string = seccompProgramPath();
  /** sha256 of that program, part of every `argv_hash`. */
  readonly #seccompDigest: string = createHash("sha256").update(
    Deno.readFileSync(this.#seccomp),
  ).digest("hex");
  /** The seccomp program, and the descriptors the runtime inherited without close-on-exec (closed before bwrap, never jailed). */
  readonly #host: JailHost = {
    seccomp: this.#seccomp,
    inherited: inheritedDescriptors(),
  };
  readonly #cgroups: CgroupHost | null;

  /** Use `BwrapSandbox.create`, which checks that the jail can be built. */
  constructor(
    options: ResolvedBwrapSandboxOptions,
    guarantees: SandboxGuarantees,
    cgroups: CgroupHost | null = null,
  ) {
    this.options = options;
    this.guarantees = guarantees;
    this.#cgroups = cgroups;
    this.backend = `${BACKEND}+${guarantees.limits}`;
  }

  /**
   * Checks that bubblewrap and (as root) setpriv exist and that a jail can be created here, then
   * returns the sandbox; throws `SandboxError` naming the fix otherwise.
   */
  static async create(
    options: BwrapSandboxOptions = {},
  ): Promise<BwrapSandbox> {
    const resolved = resolveBwrapSandboxOptions(options);
    await prepareSeccompPrograms();
    await requireTool("bwrap", resolved.bwrapPath);
    const root = Deno.uid() === 0;
    if (root) await requireTool("setpriv", resolved.setprivPath);
    const version = await toolOutput(resolved.bwrapPath, ["--version"]);
    const cg = root
      ? probeCgroups()
      : { ok: false as const, reason: "mappa does not run as root" };
    const sandbox = new BwrapSandbox(resolved, {
      bwrap_version: version,
      uid_switch: root,
      cgroup_limits: cg.ok,
      limits: cg.ok ? `cg${cg.host.version}` : "rlimit",
      ...(cg.ok ? {} : {
        limits_warning:
          `WARNING: sandbox memory, process and CPU limits are per process (rlimits), not per jail: cannot create cgroups (${cg.reason}); run as root on a host with writable cgroups (v2: a delegated subtree with memory and pids)`,
      }),
    }, cg.ok ? cg.host : null);
    await sandbox.#probe();
    return sandbox;
  }

  /** Builds an empty jail running /usr/bin/true, as slot 0 would. */
  async #probe(): Promise<void> {
    const limits = {
      wall_ms: 10_000,
      cpu_s: 10,
      memory_mb: 256,
      output_cap_bytes: 4096,
      kill_output_bytes: 1 << 20,
      file_size_mb: 1,
      nproc: 16,
    };
    const workspace = await Deno.makeTempDir({ prefix: "mappa-probe-" });
    let files: JailFileSet | undefined;
    try {
      await Deno.chmod(workspace, 0o755);
      const params = await this.#params(workspace, {
        language: "python",
        limits,
        slot: 0,
      });
      const launch = await prepareJail(params, {
        code: "",
        language: "python",
        command: ["--", "/usr/bin/true"],
      }, this.#host);
      files = launch.files;
      const argv = [launch.command, ...launch.args];
      const run = () =>
        runProcess({
          command: launch.command,
          args: launch.args,
          env: {},
          language: "python",
          limits,
          exitCodeEncodesSignal: true,
        });
      let result = await run();
      // EAGAIN: processes of the slot's uid from a run that just ended still count against its
      // RLIMIT_NPROC while they exit; wait for them rather than refuse.
      for (
        let tries = 0;
        result.status !== "ok" && tries < 20 &&
        /Resource temporarily unavailable/.test(result.stderr.text);
        tries++
      ) {
        await new Promise((r) => setTimeout(r, 250));
        result = await run();
      }
      if (result.status !== "ok") {
        throw new SandboxError(
          `Cannot create a bwrap jail on this host: ${
            result.stderr.text.trim() || `status ${result.status}`
          }; ${
            /Resource temporarily unavailable/.test(result.stderr.text)
              ? `the sandbox uid ${this.options.uidBase} has too many processes: another mappa process may use the same uids (pass --sandbox-uid-base)`
              : "unprivileged user namespaces must be allowed (sysctl kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)"
          }`,
          {
            command: argv,
            exitCode: result.exit_code,
            stderrTail: result.stderr.text.slice(-2000),
          },
        );
      }
    } finally {
      await files?.dispose();
      await Deno.remove(workspace, { recursive: true });
    }
  }

  /** The uid and gid slot `slot` runs as, or null when the runtime is not root. */
  userOf(slot: number): { uid: number; gid: number } | null {
    if (!this.guarantees.uid_switch) return null;
    return { uid: this.options.uidBase + slot, gid: this.options.gid };
  }

  /** Runs one program; an expected failure (timeout, limit, exception) is a status, never a throw. */
  async exec(request: ExecRequest): Promise<ExecResult> {
    const { limits } = request;
    checkLimits(limits);
    const slot = request.slot ?? 0;
    if (!Number.isInteger(slot) || slot < 0) {
      throw new RangeError(
        `Cannot run in slot ${slot}: slots are integers >= 0`,
      );
    }
    const user = this.userOf(slot);
    const workspace = resolve(request.workspace);
    let ws: Deno.FileInfo | undefined;
    try {
      ws = Deno.lstatSync(workspace);
    } catch {
      // reported below
    }
    if (ws === undefined || !ws.isDirectory) {
      throw new TypeError(
        `Cannot run in workspace "${workspace}": it is not a directory`,
      );
    }
    const params = await this.#params(workspace, request);
    const argv = jailArgv(params);
    const launch = await prepareJail(params, request, this.#host);
    const { files } = launch;
    try {
      const { outcome, enforcement } = await withJailLimits(
        this.#cgroups,
        workspace,
        limits,
        async (jail) => ({
          enforcement: jail.enforcement,
          outcome: await runProcess({
            command: launch.command,
            args: launch.args,
            env: {},
            language: request.language,
            limits,
            signal: request.signal,
            stdin: request.stdin,
            exitCodeEncodesSignal: true,
            kill: killJail,
            ...(user === null ? {} : {
              afterKill: async () => {
                await waitForNoProcesses(user.uid, 2000);
              },
            }),
            // Host-side only: bwrap writes "exit-code" to its status fd once it has exec'd the
            // program; without it the jail was never set up, whatever the agent printed.
            isSetupFailure: () =>
              parseJailStatus(Deno.readTextFileSync(files.status)).exitCode ===
                null,
            ...jail.spec,
          }),
        }),
      );
      return {
        ...outcome,
        backend: `${BACKEND}+${enforcement}`,
        argv_hash: argvHash(argv, params, this.#seccompDigest),
      };
    } finally {
      await files.dispose();
    }
  }

  /** The jail's parameters; chowns the workspace to the slot's uid and checks bind sources first. */
  async #params(
    workspace: string,
    request: Pick<
      ExecRequest,
      "language" | "limits" | "slot" | "hide_paths" | "readonly_workspace"
    >,
  ): Promise<JailParams> {
    const { limits } = request;
    const user = this.userOf(request.slot ?? 0);
    if (user !== null) {
      await chownWorkspace(workspace, user);
      await this.#requireReachable(workspace, user, "workspace");
      if (request.language === "typescript") {
        await this.#requireReachable(
          this.options.denoPath,
          user,
          "deno binary",
        );
      }
    }
    const nproc = user !== null
      ? limits.nproc
      : limits.nproc + await threadCountOfUid(Deno.uid() ?? 0);
    return {
      language: request.language,
      limits,
      workspace,
      ...(request.readonly_workspace ? { readonlyWorkspace: true } : {}),
      user,
      tools: {
        setpriv: this.options.setprivPath,
        bwrap: this.options.bwrapPath,
        python: this.options.pythonPath,
        deno: this.options.denoPath,
      },
      tmpMb: this.options.tmpMb,
      shmMb: this.options.shmMb,
      nofile: this.options.nofile,
      nproc,
      ...this.#defaultHidden(),
      hide: mergeHidden(
        this.#defaultHidden().hide,
        hiddenEntries(request.hide_paths ?? [], workspace, true),
      ),
    };
  }

  /**
   * The default hidden paths, computed once: folders with many of them (a package's `datasets/`) as
   * mirrors bound in one mount each, the rest one mount per path.
   */
  #defaultHidden(): Required<Pick<JailParams, "hide" | "mirrors">> {
    if (this.#hidden === undefined) {
      const all = hiddenEntries(this.options.hidePaths, "", false);
      const mirrors = hideMirrors(all.map((h) => h.path));
      const covered = new Set(mirrors.flatMap((m) => m.covers));
      this.#hidden = {
        hide: all.filter((h) => !covered.has(h.path)),
        mirrors: mirrors.map(({ path, source }) => ({ path, source })),
      };
    }
    return this.#hidden;
  }

  #hidden: Required<Pick<JailParams, "hide" | "mirrors">> | undefined;

  async #requireReachable(
    path: string,
    user: { uid: number; gid: number },
    what: string,
  ): Promise<void> {
    const blocked = await firstBlockedDir(path, user.uid, user.gid);
    if (blocked === undefined) return;
    throw new SandboxError(
      `Cannot bind the ${what} "${path}" into the jail: uid ${user.uid} cannot traverse "${blocked.dir}" (mode ${
        (blocked.mode & 0o7777).toString(8).padStart(4, "0")
      }); keep it under directories other users can traverse (chmod o+x)`,
    );
  }
}

/** Host trees the jail shows at the same path: a hidden path elsewhere (but in the workspace) is not in view anyway. */
const SAME_PATH_ROOTS = ["/usr/", "/etc/"];

/**
 * The paths to hide as the jail sees them, with whether each is a folder: host paths under /usr and
 * /etc at the same path, paths inside the workspace under /workspace; links and missing paths are
 * skipped (nothing to hide). `perRequest` paths must be absolute and, in the workspace, may not be
 * the workspace itself. The default list is computed once, so its workspace paths are ignored.
 */
function hiddenEntries(
  paths: readonly string[],
  workspace: string,
  perRequest: boolean,
): NonNullable<JailParams["hide"]> {
  const out: { path: string; dir: boolean }[] = [];
  for (const path of paths) {
    if (perRequest && (!isAbsolute(path) || path.split("/").includes(".."))) {
      throw new TypeError(
        `Cannot hide "${path}" in the jail: hide_paths must be absolute host paths without ".."`,
      );
    }
    if (path.split("/").includes("..")) continue;
    const host = resolve(path);
    let inJail: string | null = null;
    if (SAME_PATH_ROOTS.some((root) => host.startsWith(root))) inJail = host;
    else if (perRequest && host.startsWith(`${workspace}/`)) {
      inJail = `${JAIL_WORKSPACE}${host.slice(workspace.length)}`;
    }
    if (inJail === null) continue;
    try {
      const info = Deno.lstatSync(host);
      if (info.isDirectory || info.isFile) {
        out.push({ path: inJail, dir: info.isDirectory });
      }
    } catch {
      // not there: nothing to hide
    }
  }
  return out;
}

/** `base` then the entries of `extra` at paths not in `base`. */
function mergeHidden(
  base: NonNullable<JailParams["hide"]>,
  extra: NonNullable<JailParams["hide"]>,
): NonNullable<JailParams["hide"]> {
  if (extra.length === 0) return base;
  const seen = new Set(base.map((h) => h.path));
  return [...base, ...extra.filter((h) => !seen.has(h.path))];
}

/**
 * sha256 of the jail's argv with the per-call values (paths, uid, nproc headroom) as placeholders,
 * and of the seccomp program it loads.
 */
function argvHash(
  argv: readonly string[],
  params: JailParams,
  seccompDigest: string,
): string {
  const mirrors = new Set((params.mirrors ?? []).map((m) => m.source));
  const template = argv.map((a) => {
    if (a === params.workspace) return "{workspace}";
    if (mirrors.has(a)) return "{mirror}";
    if (a.startsWith("--reuid=")) return "--reuid={uid}";
    if (a.startsWith("--nproc=")) return `--nproc=${params.limits.nproc}`;
    return a;
  });
  template.push(`seccomp=${seccompDigest}`);
  return createHash("sha256").update(template.join("\0")).digest("hex");
}
