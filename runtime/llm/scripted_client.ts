import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
  ToolCall,
} from "../ports.ts";
import type { ModelScript, ScriptedReply } from "./model_script.ts";

/** Options of {@linkcode ScriptedModelClient}. */
export interface ScriptedModelClientOptions {
  /** Reported as `model_name` of every reply. @default "scripted" */
  readonly modelName?: string;
  /** Where the script came from, for messages. @default "the inline script" */
  readonly file?: string;
}

/** A request the scheduler may tag with its task id; the port does not carry one yet. */
type TaskTaggedRequest = ModelRequest & { readonly task?: string };

/**
 * A {@linkcode ModelClient} answering from a {@linkcode ModelScript}: no network, always
 * `provider: "scripted"`, so a run can never pass these replies off as a model's.
 *
 * The k-th request of one (episode, role) pair gets the k-th reply of that role's list, counted by
 * the client, so loop rounds carry on down the list. The list is `tasks[<task>][<role>]` when the
 * script overrides that task (keyed by the request's `task` when present, its `episode` id, or the
 * task-id part of an episode id `<split>:<task id>`), else `roles[<role>]`, else `default`. Past the end, `after_last: repeat_last` (the
 * default) repeats the last reply, which usually has no tool call and so ends the role's turn loop;
 * `cycle` starts over. Usage is an estimate (a token per 4 characters); the cost is always null.
 *
 * @example
 * ```ts ignore
 * const client = new ScriptedModelClient({ after_last: "repeat_last", roles: { solver: ["\\boxed{4}"] }, tasks: {} });
 * const reply = await client.complete({ model: "m", role: "solver", episode: "e1", turn: 0, messages: [] });
 * ```
 */
export class ScriptedModelClient implements ModelClient {
  readonly script: ModelScript;
  readonly modelName: string;
  readonly file: string;
  readonly #calls = new Map<string, number>();

  constructor(script: ModelScript, options: ScriptedModelClientOptions = {}) {
    this.script = script;
    this.modelName = options.modelName ?? "scripted";
    this.file = options.file ?? "the inline script";
  }

  /** Whether the script has replies for `role` (its own, or `default`). */
  answers(role: string): boolean {
    return Object.hasOwn(this.script.roles, role) ||
      this.script.default !== undefined;
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    const started = performance.now();
    if (request.signal?.aborted) {
      return Promise.resolve(
        this.#failure("aborted", "the request was aborted", started),
      );
    }
    const replies = this.#repliesFor(taskKeys(request), request.role);
    if (replies === undefined) {
      return Promise.resolve(this.#failure(
        "malformed",
        `Cannot answer role "${request.role}" from ${this.file}: it has no replies for this role; add roles.${request.role} (or default) to the script`,
        started,
      ));
    }
    const key = `${request.episode}\u0000${request.role}`;
    const k = this.#calls.get(key) ?? 0;
    this.#calls.set(key, k + 1);
    const index = k < replies.length
      ? k
      : this.script.after_last === "cycle"
      ? k % replies.length
      : replies.length - 1;
    const reply = normalize(replies[index]!, k);
    const promptChars = request.messages.reduce(
      (n, m) => n + m.content.length,
      0,
    );
    return Promise.resolve({
      ok: true,
      text: reply.text,
      ...(reply.reasoning !== undefined ? { reasoning: reply.reasoning } : {}),
      tool_calls: reply.tool_calls,
      finish_reason: reply.finish_reason,
      usage: {
        prompt_tokens: Math.ceil(promptChars / 4),
        completion_tokens: Math.ceil(reply.text.length / 4),
      },
      latency_ms: performance.now() - started,
      cost_usd: null,
      attempts: 1,
      provider: "scripted",
      model_name: this.modelName,
    });
  }

  #repliesFor(
    tasks: readonly string[],
    role: string,
  ): readonly ScriptedReply[] | undefined {
    for (const task of tasks) {
      if (!Object.hasOwn(this.script.tasks, task)) continue;
      const override = this.script.tasks[task]!;
      if (Object.hasOwn(override, role)) return override[role];
    }
    if (Object.hasOwn(this.script.roles, role)) return this.script.roles[role];
    return this.script.default;
  }

  #failure(
    kind: "aborted" | "malformed",
    message: string,
    started: number,
  ): ModelResponse {
    return {
      ok: false,
      error: { kind, message },
      attempts: kind === "aborted" ? 0 : 1,
      latency_ms: performance.now() - started,
      provider: "scripted",
    };
  }
}

/** Keys a task override may be written under: the request's task, its episode, the episode's task part. */
function taskKeys(request: TaskTaggedRequest): string[] {
  const keys = request.task !== undefined ? [request.task] : [];
  keys.push(request.episode);
  // run_pipeline names episodes "<split>:<task id>"; split ids never contain ":".
  const colon = request.episode.indexOf(":");
  if (colon >= 0) keys.push(request.episode.slice(colon + 1));
  return keys;
}

interface NormalReply {
  readonly text: string;
  readonly reasoning?: string;
  readonly tool_calls: readonly ToolCall[];
  readonly finish_reason: string;
}

function normalize(reply: ScriptedReply, k: number): NormalReply {
  if (typeof reply === "string") {
    return { text: reply, tool_calls: [], finish_reason: "stop" };
  }
  const toolCalls = (reply.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `scripted_${k}_${i}`,
    name: c.name,
    arguments: typeof c.arguments === "string"
      ? c.arguments
      : JSON.stringify(c.arguments),
  }));
  return {
    text: reply.text,
    ...(reply.reasoning !== undefined ? { reasoning: reply.reasoning } : {}),
    tool_calls: toolCalls,
    finish_reason: reply.finish_reason ??
      (toolCalls.length > 0 ? "tool_calls" : "stop"),
  };
}
