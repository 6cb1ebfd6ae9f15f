import type {
  ExecLimits,
  ExecRequest,
  ExecStatus,
  StreamCapture,
} from "../ports.ts";
import {
  classifyExit,
  type ParsedError,
  parseError,
  signalName,
  STDERR_MARKERS,
} from "./_classify.ts";
import { HeadTailBuffer } from "./_stream_capture.ts";
import { SandboxError } from "./sandbox_error.ts";

/** How long pipe readers get after a kill before they are cancelled (reference/sandbox.md §3.4). */
const DRAIN_GRACE_MS = 250;
/** A custom kill that has not ended the process by then is followed by SIGKILL to the process. */
const KILL_FALLBACK_MS = 1000;

/** One process to run, fully resolved by a backend. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the spawned process; the host's is never inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly language: ExecRequest["language"];
  readonly limits: ExecLimits;
  readonly signal?: AbortSignal;
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
}

/** What `runProcess` observed. */
export interface ProcessOutcome {
  readonly status: ExecStatus;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly wall_ms: number;
  readonly stdout: StreamCapture;
  readonly stderr: StreamCapture;
  readonly error?: ParsedError;
}

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
  try {
    child = new Deno.Command(spec.command, {
      args: [...spec.args],
      env: { ...spec.env },
      clearEnv: true,
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      stdin: "null",
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

  return outcome(spec, status, wallMs, out, err, { timedOut, outputExceeded });
}

function outcome(
  spec: ProcessSpec,
  status: Deno.CommandStatus,
  wallMs: number,
  out: HeadTailBuffer,
  err: HeadTailBuffer,
  flags: { timedOut: boolean; outputExceeded: boolean },
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
  const error = parseError(spec.language, stderr.text);
  return {
    ...base,
    status: classifyExit({
      language: spec.language,
      timedOut: flags.timedOut,
      outputExceeded: flags.outputExceeded,
      exitCode,
      signal,
      stderrMarkers: err.found,
    }),
    ...(error === undefined ? {} : { error }),
  };
}
