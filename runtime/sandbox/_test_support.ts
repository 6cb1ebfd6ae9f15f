/** Shared fixtures of the sandbox tests: small limits, throwaway workspaces, survivor checks. */
import type { ExecLimits } from "../ports.ts";
import { waitForNoProcesses } from "./_uid_processes.ts";

/** Small limits, so every limit test ends in well under a second or two. */
export const SMALL_LIMITS: ExecLimits = {
  wall_ms: 10_000,
  cpu_s: 10,
  memory_mb: 512,
  output_cap_bytes: 16_384,
  kill_output_bytes: 8 << 20,
  file_size_mb: 8,
  nproc: 64,
};

/** A workspace directory every uid can reach (its parent is 0755), removed on dispose. */
export async function tempWorkspace(): Promise<
  { dir: string; parent: string } & AsyncDisposable
> {
  const parent = await Deno.makeTempDir({ prefix: "mappa-test-" });
  await Deno.chmod(parent, 0o755);
  const dir = `${parent}/ws`;
  await Deno.mkdir(dir, { mode: 0o755 });
  return {
    dir,
    parent,
    [Symbol.asyncDispose]: () => Deno.remove(parent, { recursive: true }),
  };
}

/** Live processes of `uid`, after giving a torn-down jail up to `graceMs` to disappear. */
export async function survivors(
  uid: number,
  graceMs = 1000,
): Promise<number[]> {
  return await waitForNoProcesses(uid, graceMs);
}

/** The JSON object a test program printed as its last stdout line. */
export function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line);
}
