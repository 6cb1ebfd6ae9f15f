import { Ajv } from "ajv";
import type { ExecLimits, ExecResult, Sandbox } from "../ports.ts";
import {
  copyWorkspace,
  DEFAULT_COPY_LIMITS,
  type WorkspaceCopyLimits,
} from "./_workspace_copy.ts";

/** A program of the spec (a command grader, a check by command) that reads JSON and prints JSON. */
export interface JsonProgram {
  readonly language: "python" | "typescript";
  readonly code: string;
  /** The spec file it came from (e.g. "graders/run_tests.py"), for messages. */
  readonly source: string;
}

/** Options of {@linkcode runJsonProgram}. */
export interface RunJsonProgramOptions {
  readonly sandbox: Sandbox;
  readonly program: JsonProgram;
  /** Sent as JSON on the program's stdin, never written to a file the jail can see. */
  readonly input: unknown;
  /** Host folder shown read-only at /workspace, as a snapshot copy (no symlinks, within budgets). */
  readonly workspace?: string;
  readonly limits: ExecLimits;
  /** JSON Schema (ajv) the printed JSON must satisfy. */
  readonly outputSchema?: object;
  readonly signal?: AbortSignal;
  /** The sandbox slot to run in (its uid). @default 0 */
  readonly slot?: number;
  /** Budgets of the workspace copy. @default DEFAULT_COPY_LIMITS */
  readonly copyLimits?: WorkspaceCopyLimits;
}

/** What a JSON program printed, or why it printed nothing usable. */
export type JsonProgramResult =
  | { readonly ok: true; readonly value: unknown; readonly stderr: string }
  | {
    readonly ok: false;
    readonly failure:
      | "crashed"
      | "timed_out"
      | "invalid_json"
      | "invalid_output"
      | "sandbox_error";
    readonly message: string;
  };

/** Characters of stderr a failure message shows. */
const STDERR_TAIL = 800;

function tail(stderr: string): string {
  const t = stderr.trim();
  if (t === "") return "";
  const cut = t.length > STDERR_TAIL ? `…${t.slice(-STDERR_TAIL)}` : t;
  return `; stderr: ${cut}`;
}

function failureOf(
  r: ExecResult,
  source: string,
): { failure: "crashed" | "timed_out" | "sandbox_error"; message: string } {
  const err = tail(r.stderr.text);
  if (r.status === "wall_timeout") {
    return {
      failure: "timed_out",
      message: `${source} ran past its wall-clock limit${err}`,
    };
  }
  if (r.status === "sandbox_error") {
    return {
      failure: "sandbox_error",
      message: `the sandbox could not run ${source}: ${
        r.error?.message ?? "no detail"
      }${err}`,
    };
  }
  const how = r.status === "error"
    ? `exited with status ${r.exit_code ?? r.signal}`
    : `stopped (${r.status}${r.signal ? `, ${r.signal}` : ""})`;
  const what = r.error ? ` (${r.error.type}: ${r.error.message})` : "";
  return { failure: "crashed", message: `${source} ${how}${what}${err}` };
}

/**
 * The input with `workspace_skipped` added when it is an object: what the copy left out of /workspace
 * and why (a link the agent planted, a file past the budget), so a program never mistakes a partial
 * workspace for the whole one.
 */
function withSkipped(input: unknown, skipped: readonly string[]): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return input;
  }
  return { ...input, workspace_skipped: [...skipped] };
}

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/**
 * Runs a spec's program in the sandbox: `input` as JSON on its stdin (so an expected answer is never
 * in a file that code the program runs could open), a snapshot copy of `workspace` read-only at
 * /workspace, and exactly one JSON value expected on stdout (surrounding whitespace allowed, within
 * the limits' output cap), checked against `outputSchema`. Python runs with `-I`: /workspace is not on
 * sys.path, so files an agent planted there (`sitecustomize.py`, `json.py`) are not imported. Every
 * way it can fail is a value naming the program file and showing the stderr tail, never a throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsafeSandbox } from "../sandbox/unsafe_sandbox.ts";
 * import { runJsonProgram } from "./json_program.ts";
 * const r = await runJsonProgram({
 *   sandbox: new UnsafeSandbox({ iUnderstandThisRunsAgentCodeWithoutIsolation: true }),
 *   program: { language: "python", source: "double.py", code: "import json,sys\nprint(json.load(sys.stdin)['x'] * 2)" },
 *   input: { x: 21 },
 *   limits: {
 *     wall_ms: 10_000, cpu_s: 10, memory_mb: 512, output_cap_bytes: 65_536,
 *     kill_output_bytes: 1 << 20, file_size_mb: 16, nproc: 256,
 *   },
 * });
 * assert.deepEqual(r, { ok: true, value: 42, stderr: "" });
 * ```
 */
export async function runJsonProgram(
  options: RunJsonProgramOptions,
): Promise<JsonProgramResult> {
  const { program, limits } = options;
  const source = program.source;
  let result: ExecResult;
  let copy: Awaited<ReturnType<typeof copyWorkspace>> | undefined;
  try {
    copy = await copyWorkspace(
      options.workspace,
      options.copyLimits ?? DEFAULT_COPY_LIMITS,
    );
    let stdin: Uint8Array;
    try {
      stdin = new TextEncoder().encode(
        JSON.stringify(withSkipped(options.input, copy.skipped)) ?? "null",
      );
    } catch (e) {
      return {
        ok: false,
        failure: "sandbox_error",
        message: `Cannot encode the input of ${source} as JSON: ${
          e instanceof Error ? e.message : String(e)
        }`,
      };
    }
    result = await options.sandbox.exec({
      language: program.language,
      code: program.code,
      workspace: copy.dir,
      readonly_workspace: true,
      stdin,
      limits,
      ...(options.slot === undefined ? {} : { slot: options.slot }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (e) {
    return {
      ok: false,
      failure: "sandbox_error",
      message: `the sandbox could not run ${source}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    };
  } finally {
    await copy?.dispose();
  }
  if (result.status !== "ok") {
    return { ok: false, ...failureOf(result, source) };
  }
  const err = tail(result.stderr.text);
  if (result.stdout.truncated) {
    return {
      ok: false,
      failure: "invalid_json",
      message:
        `${source} printed ${result.stdout.total_bytes} bytes, more than the ${limits.output_cap_bytes} bytes kept${err}`,
    };
  }
  const text = result.stdout.text;
  if (text.trim() === "") {
    return {
      ok: false,
      failure: "invalid_json",
      message: `${source} printed nothing; it must print one JSON value${err}`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const head = text.trim().slice(0, 120);
    return {
      ok: false,
      failure: "invalid_json",
      message: `${source} did not print exactly one JSON value (${
        e instanceof Error ? e.message : String(e)
      }); it printed "${head}${text.trim().length > 120 ? "…" : ""}"${err}`,
    };
  }
  if (options.outputSchema !== undefined) {
    let validate = compiled.get(options.outputSchema);
    try {
      validate ??= ajv.compile(options.outputSchema);
    } catch (e) {
      return {
        ok: false,
        failure: "sandbox_error",
        message: `Cannot compile the output schema of ${source}: ${
          e instanceof Error ? e.message : String(e)
        }`,
      };
    }
    compiled.set(options.outputSchema, validate);
    if (!validate(value)) {
      const e = validate.errors?.[0];
      const at = e?.instancePath ? `at "${e.instancePath}" ` : "";
      return {
        ok: false,
        failure: "invalid_output",
        message: `${source} printed JSON that does not match its schema: ${at}${
          e?.message ?? "invalid"
        }${
          e?.params && "additionalProperty" in e.params
            ? ` ("${e.params.additionalProperty}")`
            : ""
        }${err}`,
      };
    }
  }
  return { ok: true, value, stderr: result.stderr.text };
}
