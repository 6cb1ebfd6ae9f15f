/**
 * Per-jail limits through cgroups (issue 13 item 2): memory, processes and CPU time of a whole jail,
 * on the v2 unified hierarchy or on v1 (memory, pids and cpuacct controllers). mappa creates one
 * cgroup per execution under a `mappa` folder beside its own cgroup and removes it afterwards.
 */

/** Where mappa may create jail cgroups: the `mappa` parent of each controller. */
export interface CgroupHost {
  readonly version: 1 | 2;
  /** On v2 the three are one folder. */
  readonly memory: string;
  readonly pids: string;
  readonly cpu: string;
}

/** The outcome of probing this host: a writable layout, or why there is none. */
export type CgroupProbe =
  | { readonly ok: true; readonly host: CgroupHost }
  | { readonly ok: false; readonly reason: string };

/** What the probe reads; tests pass their own. */
export interface CgroupProbeInput {
  /** Text of /proc/self/mountinfo. */
  readonly mountinfo: string;
  /** Text of /proc/self/cgroup. */
  readonly selfCgroup: string;
}

interface CgroupMount {
  readonly point: string;
  /** The hierarchy path mounted there ("/" unless a namespace or a bind shows a subtree). */
  readonly root: string;
  readonly fstype: string;
  readonly options: readonly string[];
}

const PARENT = "mappa";
let sequence = 0;
// Test workers (deno test --parallel) share one pid: a random tag keeps their cgroup names apart.
const TAG = crypto.randomUUID().slice(0, 8);
/**
 * Jail cgroups whose removal had to wait (a jail's init can linger as a zombie until the host's init
 * reaps it, and v1 cannot remove a cgroup before): retried at each later create, without a timer.
 */
const pending = new Set<JailCgroup>();

function mounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (left === undefined || right === undefined) continue;
    const f = left.split(" ");
    const [fstype, , superOptions] = right.split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    out.push({
      point: unescape(f[4]!),
      root: unescape(f[3]!),
      fstype,
      options: (superOptions ?? "").split(","),
    });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(
    /\\([0-7]{3})/g,
    (_, o) => String.fromCharCode(parseInt(o, 8)),
  );
}

/** The folder of this process's cgroup in `mount`, for the /proc/self/cgroup path `path`. */
function ownFolder(mount: CgroupMount, path: string): string | undefined {
  if (mount.root !== "/" && !(path + "/").startsWith(mount.root + "/")) {
    return undefined;
  }
  const rel = mount.root === "/" ? path : path.slice(mount.root.length);
  return (mount.point + rel).replace(/\/+$/, "");
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function mkdirOk(path: string): void {
  try {
    Deno.mkdirSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/** Creates `<parent>/mappa` on v2 with memory and pids enabled for its children; throws why not. */
function prepareV2(parent: string): string {
  const dir = `${parent}/${PARENT}`;
  let created = false;
  try {
    Deno.mkdirSync(dir);
    created = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  try {
    return enableV2(parent, dir);
  } catch (e) {
    if (created) tryRemove(dir);
    throw e;
  }
}

function tryRemove(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // in use, or gone
  }
}

function enableV2(parent: string, dir: string): string {
  const has = () => {
    const c = Deno.readTextFileSync(`${dir}/cgroup.controllers`).split(/\s+/);
    return c.includes("memory") && c.includes("pids");
  };
  if (!has()) {
    // EBUSY where `parent` itself holds processes (not the root): it needs a delegated subtree.
    Deno.writeTextFileSync(`${parent}/cgroup.subtree_control`, "+memory +pids");
    if (!has()) {
      throw new Error(`memory and pids are not available in "${dir}"`);
    }
  }
  Deno.writeTextFileSync(`${dir}/cgroup.subtree_control`, "+memory +pids");
  const probe = `${dir}/probe-${Deno.pid}`;
  mkdirOk(probe);
  try {
    Deno.writeTextFileSync(`${probe}/pids.max`, "16");
    Deno.writeTextFileSync(`${probe}/memory.max`, String(64 << 20));
  } finally {
    Deno.removeSync(probe);
  }
  return dir;
}

/** Creates `<controller folder>/mappa` on v1 and checks a child can be made and limited there. */
function prepareV1(folder: string, file: string, value: string): string {
  const dir = `${folder}/${PARENT}`;
  mkdirOk(dir);
  const probe = `${dir}/probe-${Deno.pid}`;
  mkdirOk(probe);
  try {
    Deno.writeTextFileSync(`${probe}/${file}`, value);
  } finally {
    Deno.removeSync(probe);
  }
  return dir;
}

/**
 * Finds where jail cgroups can be created: v2 when its hierarchy has the memory and pids controllers,
 * else v1 with memory, pids and cpuacct. On v2 the parent is the runtime's own cgroup when controllers
 * can be enabled there, else the hierarchy's root (systemd hosts without a delegated subtree). Needs
 * root; never moves an existing process.
 */
export function probeCgroups(
  input: CgroupProbeInput = {
    mountinfo: Deno.readTextFileSync("/proc/self/mountinfo"),
    selfCgroup: Deno.readTextFileSync("/proc/self/cgroup"),
  },
): CgroupProbe {
  const all = mounts(input.mountinfo);
  const self = new Map<string, string>();
  for (const line of input.selfCgroup.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    for (const c of m[1] === "" ? [""] : m[1]!.split(",")) self.set(c, m[2]!);
  }
  const reasons: string[] = [];
  const v2 = all.find((m) => m.fstype === "cgroup2");
  if (v2 !== undefined) {
    let controllers: string[] = [];
    try {
      controllers = Deno.readTextFileSync(`${v2.point}/cgroup.controllers`)
        .split(/\s+/);
    } catch {
      // unreadable: treated as none
    }
    if (controllers.includes("memory") && controllers.includes("pids")) {
      const own = ownFolder(v2, self.get("") ?? "/");
      const parents = [
        ...new Set([own, v2.point].filter((p) => p !== undefined)),
      ];
      for (const parent of parents) {
        try {
          const dir = prepareV2(parent);
          removeStale([dir]);
          return {
            ok: true,
            host: { version: 2, memory: dir, pids: dir, cpu: dir },
          };
        } catch (e) {
          reasons.push(`v2 "${parent}/${PARENT}": ${message(e)}`);
        }
      }
    } else {
      reasons.push(`v2 "${v2.point}" has no memory and pids controllers`);
    }
  }
  const folders: Record<string, string> = {};
  for (const c of ["memory", "pids", "cpuacct"]) {
    const m = all.find((x) => x.fstype === "cgroup" && x.options.includes(c));
    const own = m && ownFolder(m, self.get(c) ?? "/");
    if (own === undefined) {
      reasons.push(`v1 has no ${c} controller`);
      return { ok: false, reason: reasons.join("; ") };
    }
    folders[c] = own;
  }
  try {
    const host = {
      version: 1 as const,
      memory: prepareV1(
        folders.memory!,
        "memory.limit_in_bytes",
        String(64 << 20),
      ),
      pids: prepareV1(folders.pids!, "pids.max", "16"),
      cpu: prepareV1(folders.cpuacct!, "cpuacct.usage", "0"),
    };
    removeStale([host.memory, host.pids, host.cpu]);
    return { ok: true, host };
  } catch (e) {
    reasons.push(`v1: ${message(e)}`);
    return { ok: false, reason: reasons.join("; ") };
  }
}

/** Removes the empty jail cgroups a mappa process that no longer runs left behind (e.g. killed). */
function removeStale(dirs: readonly string[]): void {
  for (const dir of dirs) {
    for (const entry of Deno.readDirSync(dir)) {
      const pid = /^jail-(\d+)-(?:[0-9a-f]{8}-)?\d+$/.exec(entry.name)?.[1];
      if (pid === undefined || Number(pid) === Deno.pid) continue;
      try {
        Deno.statSync(`/proc/${pid}`);
        continue; // that mappa still runs
      } catch {
        tryRemove(`${dir}/${entry.name}`); // fails while processes remain in it
      }
    }
  }
}

function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m === null ? 0 : Number(m[1]);
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** Limits of one cgroup: `memory_mb` and `nproc` are the whole jail's. */
export interface CgroupLimits {
  readonly memory_mb: number;
  /** pids.max: the program's processes and threads plus bwrap and the jail's init. */
  readonly pids: number;
}

/** One execution's cgroup (one folder per controller on v1). */
export class JailCgroup {
  readonly host: CgroupHost;
  readonly name: string;
  readonly #dirs: readonly string[];

  private constructor(host: CgroupHost, name: string) {
    this.host = host;
    this.name = name;
    this.#dirs = [
      ...new Set([host.memory, host.pids, host.cpu].map((d) => `${d}/${name}`)),
    ];
  }

  /** Creates the cgroup with its limits; throws (e.g. PermissionDenied) when it cannot. */
  static create(host: CgroupHost, limits: CgroupLimits): JailCgroup {
    for (const old of pending) {
      if (old.#rmdirAll()) pending.delete(old);
    }
    const cg = new JailCgroup(host, `jail-${Deno.pid}-${TAG}-${++sequence}`);
    const bytes = String(limits.memory_mb * 1024 * 1024);
    try {
      for (const d of cg.#dirs) Deno.mkdirSync(d);
      const mem = `${host.memory}/${cg.name}`;
      if (host.version === 2) {
        Deno.writeTextFileSync(`${mem}/memory.max`, bytes);
        tryWrite(`${mem}/memory.swap.max`, "0");
        tryWrite(`${mem}/memory.oom.group`, "0");
      } else {
        Deno.writeTextFileSync(`${mem}/memory.limit_in_bytes`, bytes);
        tryWrite(`${mem}/memory.memsw.limit_in_bytes`, bytes); // absent without swap accounting
      }
      Deno.writeTextFileSync(
        `${host.pids}/${cg.name}/pids.max`,
        String(limits.pids),
      );
    } catch (e) {
      cg.#rmdirAll();
      throw e;
    }
    return cg;
  }

  /** The `cgroup.procs` files a process writes its pid to, to join every controller. */
  get procsFiles(): string[] {
    return this.#dirs.map((d) => `${d}/cgroup.procs`);
  }

  /** Processes the kernel's OOM killer ended in this cgroup because of its memory limit. */
  oomKills(): number {
    const d = `${this.host.memory}/${this.name}`;
    return this.host.version === 2
      ? counter(readOr(`${d}/memory.events`, ""), "oom_kill")
      : counter(readOr(`${d}/memory.oom_control`, ""), "oom_kill");
  }

  /** CPU time of every process that ran in the cgroup, in microseconds. */
  cpuUsec(): number {
    const d = `${this.host.cpu}/${this.name}`;
    return this.host.version === 2
      ? counter(readOr(`${d}/cpu.stat`, ""), "usage_usec")
      : Math.floor(Number(readOr(`${d}/cpuacct.usage`, "0")) / 1000);
  }

  /** Pids of the processes in the cgroup now. */
  pids(): number[] {
    return readOr(`${this.host.pids}/${this.name}/cgroup.procs`, "")
      .split("\n").filter((s) => s !== "").map(Number);
  }

  /** SIGKILLs every process in the cgroup (cgroup.kill on v2, each listed pid on v1). */
  killAll(): void {
    if (this.host.version === 2) {
      try {
        Deno.writeTextFileSync(
          `${this.host.pids}/${this.name}/cgroup.kill`,
          "1",
        );
        return;
      } catch {
        // before Linux 5.14: one pid at a time
      }
    }
    for (const pid of this.pids()) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
  }

  /**
   * Kills what is left and removes the cgroup, waiting up to `waitMs` for exiting processes to leave
   * it; past that the removal is retried at the next `create` (the execution does not wait for a
   * zombie to be reaped). Returns whether it is gone now.
   */
  async remove(waitMs = 10): Promise<boolean> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.pids().length > 0) this.killAll();
      if (this.#rmdirAll()) {
        pending.delete(this);
        return true;
      }
      if (performance.now() >= deadline) {
        pending.add(this);
        return false;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  #rmdirAll(): boolean {
    let ok = true;
    for (const d of this.#dirs) {
      try {
        Deno.removeSync(d);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) ok = false;
      }
    }
    return ok;
  }
}

function tryWrite(path: string, value: string): void {
  try {
    Deno.writeTextFileSync(path, value);
  } catch {
    // optional knob missing on this kernel
  }
}
