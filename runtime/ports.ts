import type { RunEvent } from "./events.ts";

/**
 * The ports the runtime needs, implemented by adapters it receives at construction (STYLE.md §1):
 * a model client, a sandbox, a coach and an event sink. Wire-format types keep snake_case keys.
 */

/** How an execution ended; see reference/sandbox.md §3.2 for the mapping from exit codes and signals. */
export type ExecStatus =
  | "ok"
  | "error"
  | "wall_timeout"
  | "cpu_time_limit"
  | "memory_limit"
  | "output_limit"
  | "file_size_limit"
  | "killed"
  | "sandbox_error";

/** One output stream, captured while the code ran: head and tail kept, the total size always known. */
export interface StreamCapture {
  /** Head + `\n[... N bytes omitted ...]\n` + tail when truncated; UTF-8 decoded with replacement. */
  readonly text: string;
  readonly total_bytes: number;
  readonly truncated: boolean;
}

/** Resource limits of one execution, resolved from the spec's tool declaration. */
export interface ExecLimits {
  readonly wall_ms: number;
  readonly cpu_s: number;
  readonly memory_mb: number;
  /** Bytes kept per stream (head + tail). */
  readonly output_cap_bytes: number;
  /** Total output after which the process is killed (`output_limit`). */
  readonly kill_output_bytes: number;
  readonly file_size_mb: number;
  /** Processes and threads alive at once in the whole jail. */
  readonly nproc: number;
  /** Bytes the workspace may hold while the code runs, in MiB (the sandbox's default when absent). */
  readonly disk_mb?: number;
  /** Entries the workspace may hold while the code runs (the sandbox's default when absent). */
  readonly max_files?: number;
}

/** One program to run in an episode's workspace. */
export interface ExecRequest {
  readonly language: "python" | "typescript";
  readonly code: string;
  /** Absolute path of the episode workspace, mounted read-write at /workspace. */
  readonly workspace: string;
  readonly limits: ExecLimits;
  /** Concurrency slot, so each slot can run under its own uid. */
  readonly slot?: number;
  readonly signal?: AbortSignal;
  /** Absolute host paths the jail shows empty for this execution, on top of the sandbox's own list. */
  readonly hide_paths?: readonly string[];
  /**
   * Bytes written to the program's standard input, then closed (a grader's expected answer travels
   * this way, never in a file the code it runs could open); without it stdin is /dev/null.
   */
  readonly stdin?: Uint8Array;
  /** Mount the workspace read-only at /workspace (a grader reading a snapshot copy). @default false */
  readonly readonly_workspace?: boolean;
}

/** What an execution produced, as the agent and the coach see it. */
export interface ExecResult {
  readonly status: ExecStatus;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly wall_ms: number;
  readonly stdout: StreamCapture;
  readonly stderr: StreamCapture;
  /** The last Python exception or JS error, parsed from stderr. */
  readonly error?: { readonly type: string; readonly message: string };
  /** e.g. "bwrap-v1" or "unsafe-none-v1": which isolation ran this. */
  readonly backend: string;
  readonly argv_hash: string;
}

/** Runs agent code. Implementations live only under runtime/sandbox/. */
export interface Sandbox {
  readonly backend: string;
  exec(request: ExecRequest): Promise<ExecResult>;
}

/** An OpenAI-style tool call made by the model. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** JSON text of the arguments, as the model wrote it. */
  readonly arguments: string;
}

/** One chat message, in the OpenAI chat format. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant" | "tool";
  readonly content: string;
  readonly tool_calls?: readonly ToolCall[];
  readonly tool_call_id?: string;
}

/** An OpenAI function tool offered to the model (for roles with tool_calls.format openai or both). */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

/** One model call. */
export interface ModelRequest {
  /** The spec's model key (e.g. "actor"). */
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolSpec[];
  /** Attribution, and the key the scripted provider answers by. */
  readonly role: string;
  /** What the call is for: a role's own action (the default), or a coach judging one of its actions. */
  readonly purpose?: "action" | "judge";
  readonly episode: string;
  /** The task id, so scripted replies can differ per task. */
  readonly task?: string;
  /** Ask for JSON matching a schema (OpenAI's json_schema response format), e.g. a judge's verdict. */
  readonly response_format?: {
    readonly name: string;
    readonly schema: Record<string, unknown>;
  };
  /** Sampling that overrides the model's for this call (a judge runs at temperature 0 with a seed). */
  readonly sampling?: {
    readonly temperature?: number;
    readonly seed?: number;
    readonly max_tokens?: number;
  };
  readonly turn: number;
  readonly signal?: AbortSignal;
}

/** Token usage of one call. */
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

/** A model's reply, or why there is none. A failed call is a value, never a throw. */
export type ModelResponse =
  | {
    readonly ok: true;
    readonly text: string;
    /** Reasoning returned separately by the server (`reasoning_content`), when any. */
    readonly reasoning?: string;
    readonly tool_calls: readonly ToolCall[];
    readonly finish_reason: string | null;
    readonly usage: Usage;
    readonly latency_ms: number;
    readonly cost_usd: number | null;
    readonly attempts: number;
    /** "openai" for a real endpoint, "scripted" for the demo policy: the run says which. */
    readonly provider: "openai" | "scripted";
    readonly model_name: string;
    readonly prompt_token_ids?: readonly number[];
    readonly completion_token_ids?: readonly number[];
    readonly completion_logprobs?: readonly number[];
    /** The version of the trainer policy that sampled this reply (an attached trainer stamps it). */
    readonly policy_version?: number;
  }
  | {
    readonly ok: false;
    readonly error: {
      readonly kind:
        | "http"
        | "timeout"
        | "connection"
        | "malformed"
        | "refused"
        | "aborted"
        | "exhausted";
      readonly status?: number;
      readonly message: string;
    };
    readonly attempts: number;
    readonly latency_ms: number;
    readonly provider: "openai" | "scripted";
  };

/** Answers model requests for every model of a spec. */
export interface ModelClient {
  complete(request: ModelRequest): Promise<ModelResponse>;
  /**
   * Lets each model whose spec sets no `max_concurrency` keep at least `limits[model]` requests in flight
   * (never fewer than before); `runPipeline` calls it with what the run can use. A client that wraps
   * others forwards it, or their unset models keep the default of 8.
   */
  ensureConcurrency?(limits: Readonly<Record<string, number>>): void;
  /**
   * Checks, before a run's first episode, that each of `models` can be used: its endpoint answers, takes the
   * key and serves the model. `errors` stop the run (one line each, with the fix); `notes` are said and the
   * run goes on. A client that wraps others forwards it; one with nothing to check leaves it out.
   */
  preflight?(models: readonly string[]): Promise<PreflightReport>;
}

/** What {@linkcode ModelClient.preflight} found. */
export interface PreflightReport {
  readonly errors: readonly string[];
  readonly notes: readonly string[];
}

/**
 * Scores actions as the run records them (DESIGN.md: implemented by coaches/, handed to the runtime at
 * construction). The runtime passes every event once written and waits for `finish` before closing.
 */
export interface Coach {
  /** Called once the run directory exists, before the first event. */
  start(
    run: {
      readonly dir: string;
      readonly run_id: string;
      readonly signal?: AbortSignal;
    },
  ): Promise<void>;
  observe(event: RunEvent): Promise<void>;
  finish(): Promise<void>;
}
