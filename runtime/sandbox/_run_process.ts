import type { ExecLimits, ExecRequest, ExecResult } from "../ports.ts";
import {
  classifyExit,
  type ParsedError,
  parseError,
  signalName,
  STDERR_MARKERS,
} from "./_classify.ts";
import type { JailCgroup } from "./_cgroup.ts";
import { HeadTailBuffer } from "./_stream_capture.ts";
import { SandboxError } from "./sandbox_error.ts";

/** How long pipe readers get after a kill before they are cancelled (reference/sandbox.md §3.4). */
const DRAIN_GRACE_MS = 250;
/** A custom kill that has not ended the process by then is followed by SIGKILL to the process. */
const KILL_FALLBACK_MS = 1000;

/** The wrapper's exit code when it cannot put itself into the jail's cgroup (nothing else ran). */
const CGROUP_JOIN_FAILED = 125;

/** Why a watcher killed the jail, and what the agent is told. */
export interface WatchKill {
  readonly status: "cpu_time_limit" | "file_size_limit";
  readonly error: ParsedError;
}

/** A limit the host checks while the process runs (e.g. the workspace quota, the jail's CPU time). */
export interface Watcher {
  /** A verdict kills the jail; null lets it run. The first call comes right after the spawn. */
  check(): Promise<WatchKill | null>;
  /** How long to wait before the next check. */
  readonly delayMs: number;
  /** Checked once more after the process ended (a limit crossed just before the exit still counts). */
  readonly final?: boolean;
}

/** One process to run, fully resolved by a backend. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the spawned process; the host's is never inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly language: ExecRequest["language"];
  readonly limits: ExecLimits;
  readonly signal?: AbortSignal | undefined;
  /** Written to the process's stdin, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: Uint8Array | undefined;
  /** bwrap reports a jailed program killed by signal n as exit code 128 + n. */
  readonly exitCodeEncodesSignal: boolean;
  /** Start the process in a new session (setsid), e.g. to kill its process group. */
  readonly detached?: boolean;
  /** Kills the process tree; the default kills only the spawned process. */
  readonly kill?: (child: Deno.ChildProcess) => void;
  /** Awaited after a kill, e.g. until no process of the jail's uid is left. */
  readonly afterKill?: () => Promise<void>;
  /** Recognises a failure of the isolation layer itself in stderr (e.g. "bwrap: ..."). */
  readonly isSetupFailure?: (exitCode: number, stderr: string) => boolean;
  /**
   * The jail's cgroup: the process is started through `sh -c` that writes its own pid into the
   * cgroup, then execs the command, so every process of the jail starts inside it.
   */
  readonly cgroup?: JailCgroup;
  /** Limits checked while the process runs. */
  readonly watchers?: readonly Watcher[];
}

/**
 * The command with a cgroup join before anything else runs: when it already is `sh -c <script>` (the
 * launcher), the join is put in front of that script, saving a process; otherwise an `sh -c` that
 * joins and execs the command. A failed join exits 125 before the command runs.
 */
function cgroupWrapper(cgroup: JailCgroup, argv: readonly string[]): string[] {
  const joins = cgroup.procsFiles.map((f) => `echo $$ >'${f}'`).join(" && ");
  const join =
    `{ ${joins}; } 2>/dev/null || { echo 'mappa: cannot join the jail cgroup' >&2; exit ${CGROUP_JOIN_FAILED}; }; `;
  if (/^\/(usr\/)?bin\/(sh|bash|dash)$/.test(argv[0]!) && argv[1] === "-c") {
    return [argv[0]!, "-c", join + argv[2]!, ...argv.slice(3)];
  }
  return ["/bin/sh", "-c", `${join}exec "$@"`, "mappa-jail", ...argv];
}

/** What `runProcess` observed: an `ExecResult` but for which sandbox ran it. */
export type ProcessOutcome = Omit<ExecResult, "backend" | "argv_hash">;

function killChild(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
}

async function drain(
  stream: ReadableStream<Uint8Array>,
  buffer: HeadTailBuffer,
  onChunk: () => void,
  readers: ReadableStreamDefaultReader<Uint8Array>[],
): Promise<void> {
  const reader = stream.getReader();
  readers.push(reader);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer.push(value);
      onChunk();
    }
  } catch {
    // Cancelled after a kill, or the pipe broke: what was read is kept.
  } finally {
    reader.releaseLock();
  }
}

/**
 * Spawns a process, drains stdout and stderr while it runs (head + tail kept), kills it on the wall
 * timer, on too much output or on abort, and classifies how it ended. Never blocks the event loop.
 */
export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const { limits } = spec;
  const out = new HeadTailBuffer(limits.output_cap_bytes);
  const err = new HeadTailBuffer(limits.output_cap_bytes, STDERR_MARKERS);
  const started = performance.now();
  let child: Deno.ChildProcess;
  const argv = spec.cgroup === undefined
    ? [spec.command, ...spec.args]
    : cgroupWrapper(spec.cgroup, [spec.command, ...spec.args]);
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      env: { ...spec.env },
      clearEnv: true,
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      stdin: spec.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      detached: spec.detached ?? false,
    }).spawn();
  } catch (cause) {
    throw new SandboxError(
      `Cannot start "${spec.command}": ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { command: [spec.command, ...spec.args], cause },
    );
  }

  if (spec.stdin !== undefined) feed(child.stdin, spec.stdin);
  let killed = false;
  let timedOut = false;
  let outputExceeded = false;
  let fallback: ReturnType<typeof setTimeout> | undefined;
  const kill = () => {
    if (killed) return;
    killed = true;
    (spec.kill ?? killChild)(child);
    fallback = setTimeout(() => killChild(child), KILL_FALLBACK_MS);
  };
  const onChunk = () => {
    if (out.totalBytes + err.totalBytes > limits.kill_output_bytes) {
      outputExceeded = true;
      kill();
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, limits.wall_ms);
  const onAbort = () => kill();
  spec.signal?.addEventListener("abort", onAbort);
  if (spec.signal?.aborted) kill();
  let watchKill: WatchKill | undefined;
  const watching = watchAll(spec.watchers ?? [], (verdict) => {
    watchKill ??= verdict;
    kill();
  });

  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const drained = Promise.all([
    drain(child.stdout, out, onChunk, readers),
    drain(child.stderr, err, onChunk, readers),
  ]);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
    clearTimeout(fallback);
    spec.signal?.removeEventListener("abort", onAbort);
    await watching.stop();
  }
  const wallMs = performance.now() - started;
  // Output written just before exit is still in the pipe; a descendant that escaped the kill may
  // hold the pipe open forever, so readers get a bounded grace period, then are cancelled.
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => {
    graceTimer = setTimeout(resolve, DRAIN_GRACE_MS);
  });
  await Promise.race([drained, grace]);
  clearTimeout(graceTimer);
  await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
  await drained;
  if (killed && spec.afterKill) await spec.afterKill();
  if (watchKill === undefined && !killed) {
    for (const w of spec.watchers ?? []) {
      if (!w.final) continue;
      watchKill = await w.check() ?? undefined;
      if (watchKill !== undefined) break;
    }
  }

  return outcome(spec, status, wallMs, out, err, {
    timedOut,
    outputExceeded,
    watchKill,
  });
}

/**
 * Writes `bytes` to the child's stdin and closes it, in the background: a program that exits or
 * closes its stdin early (EPIPE) is not an error of the runtime, and a program that never reads
 * does not block the event loop (the wall timer still kills it).
 */
function feed(stdin: WritableStream<Uint8Array>, bytes: Uint8Array): void {
  const writer = stdin.getWriter();
  writer.write(bytes).then(() => writer.close()).catch(() => {
    writer.abort().catch(() => {});
  });
}

/**
 * Runs each watcher's checks in turn (the first right away) until `stop()`; a verdict is passed to
 * `onKill` and ends that watcher. A throwing check is treated as no verdict.
 */
function watchAll(
  watchers: readonly Watcher[],
  onKill: (verdict: WatchKill) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const wakers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        wakers.delete(resolve);
        resolve();
      }, ms);
      timers.add(t);
      wakers.add(resolve);
    });
  const loops = watchers.map(async (w) => {
    while (!stopped) {
      const verdict = await w.check().catch(() => null);
      if (stopped) return;
      if (verdict !== null) return onKill(verdict);
      await sleep(w.delayMs);
    }
  });
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const wake of wakers) wake();
      await Promise.all(loops);
    },
  };
}

function outcome(
  spec: ProcessSpec,
  status: Deno.CommandStatus,
  wallMs: number,
  out: HeadTailBuffer,
  err: HeadTailBuffer,
  flags: {
    timedOut: boolean;
    outputExceeded: boolean;
    watchKill: WatchKill | undefined;
  },
): ProcessOutcome {
  const stdout = out.capture();
  const stderr = err.capture();
  let signal: string | null = status.signal ?? null;
  const exitCode = status.signal === null ? status.code : null;
  if (signal === null && spec.exitCodeEncodesSignal && status.code > 128) {
    signal = signalName(status.code - 128) ?? String(status.code - 128);
  }
  const base = {
    exit_code: exitCode,
    signal,
    wall_ms: Math.round(wallMs),
    stdout,
    stderr,
  };
  // Host-side evidence only: a cgroup no process ever ran in has used no CPU.
  if (
    spec.cgroup !== undefined && exitCode === CGROUP_JOIN_FAILED &&
    spec.cgroup.cpuUsec() === 0
  ) {
    return {
      ...base,
      status: "sandbox_error",
      error: {
        type: "SandboxError",
        message: `Cannot place the jail in cgroup "${spec.cgroup.name}"`,
      },
    };
  }
  if (
    !flags.timedOut && exitCode !== null &&
    spec.isSetupFailure?.(exitCode, stderr.text)
  ) {
    const message = stderr.text.trim().split("\n").at(-1) ?? "";
    return {
      ...base,
      status: "sandbox_error",
      error: { type: "SandboxError", message },
    };
  }
  const oomKills = spec.cgroup?.oomKills() ?? 0;
  const error = flags.watchKill?.error ??
    parseError(spec.language, stderr.text) ??
    (oomKills > 0
      ? {
        type: "MemoryLimit",
        message:
          `out of memory: the jail's processes together reached memory_mb (${spec.limits.memory_mb} MiB); the kernel killed ${oomKills} of them`,
      }
      : undefined);
  return {
    ...base,
    status: classifyExit({
      language: spec.language,
      timedOut: flags.timedOut,
      outputExceeded: flags.outputExceeded,
      exitCode,
      signal,
      stderrMarkers: err.found,
      ...(oomKills > 0 ? { cgroupOom: true } : {}),
      ...(flags.watchKill === undefined
        ? {}
        : { watchKill: flags.watchKill.status }),
    }),
    ...(error === undefined ? {} : { error }),
  };
}
