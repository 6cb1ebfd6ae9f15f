/** Processes and threads of one host uid, read from /proc (reference/sandbox.md §3.1 items 4 and 6). */

interface TaskInfo {
  readonly pid: number;
  readonly threads: number;
  readonly zombie: boolean;
}

async function tasksOfUid(uid: number): Promise<TaskInfo[]> {
  const found: TaskInfo[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let status: string;
    try {
      status = await Deno.readTextFile(`/proc/${entry.name}/status`);
    } catch {
      continue; // exited meanwhile
    }
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (real === undefined || Number(real) !== uid) continue;
    found.push({
      pid: Number(entry.name),
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? "1"),
      zombie: /^State:\s+Z/m.test(status),
    });
  }
  return found;
}

/**
 * Pids of the live (not zombie) processes whose real uid is `uid`. A jail's init can linger as a
 * zombie until the host's init reaps it: it runs nothing, but RLIMIT_NPROC counts it meanwhile.
 */
export async function livePidsOfUid(uid: number): Promise<number[]> {
  return (await tasksOfUid(uid)).filter((t) => !t.zombie).map((t) => t.pid);
}

/** Threads of `uid`: what RLIMIT_NPROC counts. */
export async function threadCountOfUid(uid: number): Promise<number> {
  return (await tasksOfUid(uid)).reduce((n, t) => n + t.threads, 0);
}

/**
 * Waits until no live process of `uid` is left (a killed jail's pid namespace is torn down
 * asynchronously), up to `timeoutMs`; returns the pids still alive then.
 */
export async function waitForNoProcesses(
  uid: number,
  timeoutMs: number,
): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pids = await livePidsOfUid(uid);
    if (pids.length === 0 || performance.now() >= deadline) return pids;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Child pids of `pid`, from /proc (`task/<pid>/children`, else every process's PPid). */
export function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`)
      .trim().split(/\s+/).filter((s) => s !== "").map(Number);
  } catch {
    // CONFIG_PROC_CHILDREN missing: scan.
  }
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry.name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
