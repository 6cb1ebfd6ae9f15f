import type { ExecRequest, ExecStatus } from "../ports.ts";

/** How a process ended, as observed by the host. */
export interface ExitFacts {
  readonly language: ExecRequest["language"];
  /** The wall-clock timer fired and killed the process. */
  readonly timedOut: boolean;
  /** Total output went over `kill_output_bytes`. */
  readonly outputExceeded: boolean;
  readonly exitCode: number | null;
  /** The signal that ended the program, by name ("SIGXCPU"), when known. */
  readonly signal: string | null;
  /** The `STDERR_MARKERS` found anywhere in stderr, even in the omitted middle. */
  readonly stderrMarkers: ReadonlySet<string>;
  /** The kernel OOM-killed a process of the jail at its cgroup's memory limit (host-side fact). */
  readonly cgroupOom?: boolean;
  /** The host killed the jail for a limit it watches (the jail's total CPU, the workspace quota). */
  readonly watchKill?: "cpu_time_limit" | "file_size_limit";
}

/** Strings whose presence anywhere in stderr classifies a failure (reference/sandbox.md §3.2). */
export const STDERR_MARKERS = [
  "MemoryError",
  "File too large",
  "heap limit",
  "out of memory",
] as const;

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

/** The name of signal `n` (Linux numbering), or null for numbers without one here. */
export function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(SIGNAL_NUMBERS)) {
    if (num === n) return name;
  }
  return null;
}

function diedBy(facts: ExitFacts, name: string): boolean {
  const n = SIGNAL_NUMBERS[name]!;
  return facts.signal === name || facts.exitCode === 128 + n;
}

/** Python prints `MemoryError` (numpy `_ArrayMemoryError`); V8 says "Reached heap limit" and traps. */
function isMemoryLimit(facts: ExitFacts): boolean {
  if (facts.cgroupOom || facts.stderrMarkers.has("MemoryError")) return true;
  return facts.language === "typescript" && diedBy(facts, "SIGTRAP") &&
    (facts.stderrMarkers.has("heap limit") ||
      facts.stderrMarkers.has("out of memory"));
}

/**
 * Maps an ended process to its status, in the order of reference/sandbox.md §3.2: timer, exit 0, CPU,
 * file size, memory, output, SIGKILL, anything else.
 */
export function classifyExit(facts: ExitFacts): ExecStatus {
  if (facts.timedOut) return "wall_timeout";
  if (facts.watchKill !== undefined) return facts.watchKill;
  if (facts.exitCode === 0 && facts.signal === null) return "ok";
  if (diedBy(facts, "SIGXCPU")) return "cpu_time_limit";
  // Python ignores SIGXFSZ and raises OSError(EFBIG) instead.
  if (diedBy(facts, "SIGXFSZ") || facts.stderrMarkers.has("File too large")) {
    return "file_size_limit";
  }
  if (isMemoryLimit(facts)) return "memory_limit";
  if (facts.outputExceeded) return "output_limit";
  if (diedBy(facts, "SIGKILL")) return "killed";
  return "error";
}

/** A parsed exception: the type and the first line of its message. */
export interface ParsedError {
  readonly type: string;
  readonly message: string;
}

const PY_EXCEPTION_LINE = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/;
const PY_BARE_EXCEPTION =
  /^((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Iteration|Warning))(?::\s?(.*))?$/;

function parsePythonError(stderr: string): ParsedError | undefined {
  const lines = stderr.split("\n").map((l) => l.trimEnd());
  const start = lines.findLastIndex((l) =>
    l === "Traceback (most recent call last):"
  );
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      if (line === "" || /^\s/.test(line)) continue;
      const m = PY_EXCEPTION_LINE.exec(line);
      if (m) return { type: m[1]!, message: m[2] ?? "" };
      break;
    }
  }
  // A SyntaxError in the main script has no "Traceback" header.
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PY_BARE_EXCEPTION.exec(lines[i]!);
    if (m) return { type: m[1]!, message: m[2] ?? "" };
  }
  return undefined;
}

const DENO_UNCAUGHT =
  /^error: Uncaught (?:\(in promise\) )?(?:([A-Za-z_$][\w$]*): )?(.*)$/;

function parseDenoError(stderr: string): ParsedError | undefined {
  const lines = stderr.split("\n").map((l) => l.trimEnd());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const m = DENO_UNCAUGHT.exec(line);
    if (m) return { type: m[1] ?? "Uncaught", message: m[2] ?? "" };
    if (line.startsWith("error: ")) {
      return { type: "Error", message: line.slice("error: ".length) };
    }
  }
  return undefined;
}

/** The last Python exception (`ValueError: bad`) or Deno error (`error: Uncaught ...`) in stderr. */
export function parseError(
  language: ExecRequest["language"],
  stderr: string,
): ParsedError | undefined {
  return language === "python"
    ? parsePythonError(stderr)
    : parseDenoError(stderr);
}
