import type { Execution } from "../runtime/mod.ts";
import type { ObservationEvidence } from "./types.ts";

/** Characters of each output stream shown to a judge. */
export const DEFAULT_STREAM_CAP = 4000;

/**
 * A stream cut to `cap` characters, head and tail kept (a traceback ends a stream), with a note of the cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capStream } from "./evidence_observation.ts";
 * assert.deepEqual(capStream("ok", 10, 2), { text: "ok", cut: false });
 * ```
 */
export function capStream(
  text: string,
  cap: number,
  totalBytes: number,
): { text: string; cut: boolean } {
  if (text.length <= cap) return { text, cut: false };
  const head = Math.floor(cap / 2);
  const tail = cap - head;
  const omitted = text.length - head - tail;
  return {
    text: `${
      text.slice(0, head)
    }\n[... ${omitted} characters omitted for the coach; the stream had ${totalBytes} bytes ...]\n${
      text.slice(-tail)
    }`,
    cut: true,
  };
}

/**
 * One execution as a judge sees it: status, exit, each stream capped at `cap` characters (the run log
 * keeps them whole), and the files it changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observationEvidence } from "./evidence_observation.ts";
 * const stream = (text: string) => ({ text, total_bytes: text.length, truncated: false });
 * const o = observationEvidence({
 *   tool: "python", language: "python", code: "print(1)", status: "ok", exit_code: 0, signal: null,
 *   wall_ms: 5, stdout: stream("x".repeat(50)), stderr: stream(""), backend: "bwrap-v1", files: [],
 * }, 10);
 * assert.equal(o.stdout_truncated, true);
 * assert.match(o.stdout, /characters omitted/);
 * ```
 */
export function observationEvidence(
  e: Execution,
  cap: number = DEFAULT_STREAM_CAP,
): ObservationEvidence {
  const stdout = capStream(e.stdout.text, cap, e.stdout.total_bytes);
  const stderr = capStream(e.stderr.text, cap, e.stderr.total_bytes);
  return {
    tool: e.tool,
    status: e.status,
    exit_code: e.exit_code,
    wall_ms: e.wall_ms,
    stdout: stdout.text,
    stderr: stderr.text,
    stdout_truncated: e.stdout.truncated || stdout.cut,
    stderr_truncated: e.stderr.truncated || stderr.cut,
    ...(e.error ? { error: { ...e.error } } : {}),
    files: e.files.map((f) => ({
      path: f.path,
      change: f.change,
      ...(f.rejected !== undefined ? { rejected: f.rejected } : {}),
    })),
  };
}
