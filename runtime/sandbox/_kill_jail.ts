import { childPids } from "./_uid_processes.ts";

/**
 * Kills the jail's init (bwrap's child, pid 1 of the jail's pid namespace), which takes every jailed
 * process with it; bwrap then reaps it and exits. Killing bwrap itself would orphan its init, leaving
 * a zombie for the host's init to reap while RLIMIT_NPROC still counts it.
 */
export function killJail(child: Deno.ChildProcess): void {
  const inits = childPids(child.pid);
  for (const pid of inits) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (inits.length > 0) return;
  try {
    child.kill("SIGKILL");
  } catch {
    // already exited
  }
}
