/**
 * Wires the per-jail limits around one execution: a cgroup for memory, processes and CPU (when the
 * host has writable cgroups), the jail-wide CPU check and the workspace quota watcher.
 */
import type { ExecLimits } from "../ports.ts";
import { type CgroupHost, JailCgroup } from "./_cgroup.ts";
import { QuotaWatcher } from "./_quota.ts";
import type { ProcessSpec, Watcher, WatchKill } from "./_run_process.ts";

/** Spec defaults of `tools.<t>.disk_mb` and `max_files`, used when a caller leaves them out. */
export const DEFAULT_DISK_MB = 1024;
export const DEFAULT_MAX_FILES = 20_000;

/** Tasks of the jail besides the program's own: bwrap and the jail's init. */
const JAIL_OVERHEAD_PIDS = 2;
/** The jail-wide CPU check runs this often (one small read). */
const CPU_CHECK_MS = 100;

/** Which mechanism bounded memory, processes and CPU: appended to the backend ("bwrap-v1+cg2"). */
export type Enforcement = "cg1" | "cg2" | "rlimit";

/**
 * Kills the jail once all its processes together used more CPU than `cpu_s` plus one second (the
 * per-process RLIMIT_CPU hard limit, which still ends a single busy process first with SIGXCPU).
 */
export class JailCpuWatcher implements Watcher {
  readonly delayMs = CPU_CHECK_MS;
  readonly #cgroup: JailCgroup;
  readonly #cpuS: number;

  constructor(cgroup: JailCgroup, cpuS: number) {
    this.#cgroup = cgroup;
    this.#cpuS = cpuS;
  }

  check(): Promise<WatchKill | null> {
    const used = this.#cgroup.cpuUsec();
    if (used <= (this.#cpuS + 1) * 1e6) return Promise.resolve(null);
    return Promise.resolve({
      status: "cpu_time_limit",
      error: {
        type: "CpuTimeLimit",
        message: `jail CPU time exceeded: ${
          (used / 1e6).toFixed(1)
        } s of ${this.#cpuS} s across all its processes`,
      },
    });
  }
}

/** What `withJailLimits` hands to the run. */
export interface JailLimits {
  readonly enforcement: Enforcement;
  readonly spec: Pick<ProcessSpec, "cgroup" | "watchers">;
}

/**
 * Creates the execution's cgroup (or none: `host` null, or creating it failed), runs `fn` with the
 * cgroup and watchers to pass to `runProcess`, then kills what is left in the cgroup and removes it.
 */
export async function withJailLimits<T>(
  host: CgroupHost | null,
  workspace: string,
  limits: ExecLimits,
  fn: (jail: JailLimits) => Promise<T>,
): Promise<T> {
  const quota = new QuotaWatcher(workspace, {
    disk_mb: limits.disk_mb ?? DEFAULT_DISK_MB,
    max_files: limits.max_files ?? DEFAULT_MAX_FILES,
  });
  let cgroup: JailCgroup | undefined;
  if (host !== null) {
    try {
      cgroup = JailCgroup.create(host, {
        memory_mb: limits.memory_mb,
        pids: limits.nproc + JAIL_OVERHEAD_PIDS,
      });
    } catch {
      // e.g. the mappa folder was removed: this execution falls back to rlimits, and says so
    }
  }
  if (cgroup === undefined) {
    return await fn({ enforcement: "rlimit", spec: { watchers: [quota] } });
  }
  try {
    return await fn({
      enforcement: host!.version === 2 ? "cg2" : "cg1",
      spec: {
        cgroup,
        watchers: [quota, new JailCpuWatcher(cgroup, limits.cpu_s)],
      },
    });
  } finally {
    await cgroup.remove();
  }
}
