import OpenAI from "openai";
import type { Model } from "../../dsl/mod.ts";
import type {
  ChatMessage,
  ModelClient,
  ModelRequest,
  ModelResponse,
  PreflightReport,
  ToolSpec,
} from "../ports.ts";
import { type Completion, parseCompletion } from "./_completion.ts";
import { RateLimiter } from "./_rate_limiter.ts";
import { parseRetryAfter } from "./_retry_after.ts";
import {
  type ResolvedRetryOptions,
  resolveRetryOptions,
  retryDelayMs,
  type RetryOptions,
} from "./_retry_policy.ts";
import { Semaphore } from "./_semaphore.ts";
import { sleep } from "./_sleep.ts";

// The only module under runtime/ that imports "openai" (STYLE.md §1).

export type { RetryOptions } from "./_retry_policy.ts";

/** Options of {@linkcode OpenAIModelClient}. */
export interface OpenAIModelClientOptions {
  /** Reads the environment variable named by the model's `api_key_env`. @default Deno.env.get */
  readonly env?: (name: string) => string | undefined;
  /** Backoff between attempts; the number of retries is the model's `max_retries`. @default {} */
  readonly retry?: RetryOptions;
  /** Source of backoff jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * Requests in flight for a model without `max_concurrency` until a run sizes it through
 * {@linkcode OpenAIModelClient.ensureConcurrency} (a client used outside `runPipeline`, e.g. by rescore).
 */
export const UNSIZED_MAX_CONCURRENCY = 8;

/** Sent as the key when the spec names none or its variable is unset: servers such as vLLM need none. */
const PLACEHOLDER_KEY = "EMPTY";

type FailureKind =
  | "http"
  | "timeout"
  | "connection"
  | "malformed"
  | "refused"
  | "aborted";

/** `finish_reason` values by which a provider refuses to answer (OpenAI, Azure, vLLM guardrails). */
const REFUSALS = new Set(["content_filter", "refusal"]);

/** Why one attempt failed, and whether another attempt may help. */
interface AttemptFailure {
  readonly kind: FailureKind;
  readonly status?: number;
  readonly message: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

type ChatBody = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

/**
 * A {@linkcode ModelClient} for one spec model on any OpenAI-compatible endpoint (OpenAI, vLLM, SGLang,
 * Ollama, llama.cpp server), through the openai SDK with its own retries off.
 *
 * Each call holds one of `max_concurrency` slots per attempt (unset: as many as the run can use, once
 * `ensureConcurrency` is called; {@linkcode UNSIZED_MAX_CONCURRENCY} before) and, with `requests_per_minute`, one
 * start of the sliding minute. Failed attempts are retried up to `max_retries` times on 408, 429,
 * 5xx, timeouts, connection failures and malformed or truncated bodies, waiting the server's
 * `retry-after-ms` / `Retry-After` when it sent one, else exponential backoff with jitter; other 4xx
 * are final. Every failure comes back as `{ ok: false }`, never as a throw: with the kind of the
 * failure, or `exhausted` (and the last status) when retries were made and all failed. `latency_ms`
 * is the whole call: waiting for a slot, every attempt and every backoff. The API key is read once
 * from the variable `api_key_env` names and goes only into the Authorization header.
 *
 * @example
 * ```ts ignore
 * const client = new OpenAIModelClient("actor", graph.models.actor!);
 * const reply = await client.complete({ model: "actor", role: "solver", episode: "e1", turn: 0,
 *   messages: [{ role: "user", content: "What is 2 + 2?" }] });
 * if (reply.ok) console.log(reply.text, reply.usage, reply.cost_usd);
 * ```
 */
export class OpenAIModelClient implements ModelClient {
  /** The spec's model id, e.g. "actor". */
  readonly id: string;
  readonly model: Model;
  readonly baseURL: string;
  /** Whether the variable `api_key_env` names was set; otherwise a placeholder key is sent. */
  readonly hasApiKey: boolean;
  readonly #sdk: OpenAI;
  readonly #slots: Semaphore;
  readonly #starts: RateLimiter | undefined;
  readonly #retry: ResolvedRetryOptions;
  readonly #random: () => number;
  readonly #where: string;

  constructor(
    id: string,
    model: Model,
    options: OpenAIModelClientOptions = {},
  ) {
    const baseURL = model.base_url ?? "";
    if (baseURL === "") {
      throw new TypeError(
        `Cannot create an OpenAI client for model "${id}": base_url is empty; route it to the demo policy instead`,
      );
    }
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    const key = model.api_key_env === undefined
      ? undefined
      : env(model.api_key_env);
    this.id = id;
    this.model = model;
    this.baseURL = baseURL;
    this.hasApiKey = key !== undefined && key !== "";
    this.#retry = resolveRetryOptions(options.retry);
    this.#random = options.random ?? Math.random;
    this.#slots = new Semaphore(
      model.max_concurrency ?? UNSIZED_MAX_CONCURRENCY,
    );
    this.#starts = model.requests_per_minute === undefined
      ? undefined
      : new RateLimiter(model.requests_per_minute);
    this.#where = `model "${id}" (${model.model} at ${originOf(baseURL)})`;
    // Everything the SDK would otherwise read from OPENAI_* variables is fixed here.
    this.#sdk = new OpenAI({
      baseURL,
      apiKey: this.hasApiKey ? key! : PLACEHOLDER_KEY,
      adminAPIKey: null,
      organization: null,
      project: null,
      webhookSecret: null,
      timeout: Math.ceil(model.timeout_s * 1000),
      // Our own retries (_retry_policy.ts), not the SDK's: every attempt is recorded in the action's
      // event with its failure, a refusal (content_filter) or an empty choice list is retried like a
      // 5xx, each attempt waits for the model's rate limiter and concurrency slot, and the backoff
      // counts against a run's stop signal; the SDK's retry loop does none of these.
      maxRetries: 0,
      logLevel: "off",
    });
  }

  /** Requests it lets be in flight at once now. */
  get maxConcurrency(): number {
    return this.#slots.limit;
  }

  /** Raises the limit to `limits[id]` when the spec sets no `max_concurrency` (an explicit cap stays). */
  ensureConcurrency(limits: Readonly<Record<string, number>>): void {
    const wanted = limits[this.id];
    if (this.model.max_concurrency === undefined && wanted !== undefined) {
      this.#slots.raise(wanted);
    }
  }

  /**
   * Checks the endpoint before a run (`GET /models`, one attempt, at most 10 s): a refused connection, a
   * refused key (401/403) or a model the server does not list is an error; a server without `/models`
   * (404, 405, 501) cannot be checked and passes; a slow or failing one is a note.
   */
  async preflight(
    models: readonly string[] = [this.id],
  ): Promise<PreflightReport> {
    if (!models.includes(this.id)) return { errors: [], notes: [] };
    const fix = `models.${this.id}`;
    const unsetKey = this.model.api_key_env !== undefined && !this.hasApiKey
      ? this.model.api_key_env
      : undefined;
    try {
      const page = await this.#sdk.models.list({
        timeout: Math.min(10_000, Math.ceil(this.model.timeout_s * 1000)),
        maxRetries: 0,
      });
      const ids = page.data.map((m) => m.id);
      if (ids.length > 0 && !ids.includes(this.model.model)) {
        const shown = ids.slice(0, 8).map((i) => `"${i}"`).join(", ");
        return {
          errors: [
            `Cannot use ${this.#where}: the server does not serve "${this.model.model}" (it lists ${shown}${
              ids.length > 8 ? `, and ${ids.length - 8} more` : ""
            }); fix ${fix}.model`,
          ],
          notes: [],
        };
      }
      return {
        errors: [],
        notes: unsetKey !== undefined
          ? [
            `mappa: ${fix}.api_key_env names ${unsetKey}, which is not set; the server accepted a request without a key`,
          ]
          : [],
      };
    } catch (error) {
      const failure = describeError(error, this.model);
      if (failure.kind === "connection") {
        return {
          errors: [
            `Cannot reach ${this.#where}: ${failure.message}; start the server, or fix ${fix}.base_url`,
          ],
          notes: [],
        };
      }
      if (
        failure.kind === "http" &&
        (failure.status === 401 || failure.status === 403)
      ) {
        return {
          errors: [
            `Cannot use ${this.#where}: the server refused the key (${failure.message})${
              unsetKey !== undefined
                ? `; ${fix}.api_key_env names ${unsetKey}, which is not set: export it`
                : this.model.api_key_env === undefined
                ? `; name the variable that holds the key in ${fix}.api_key_env`
                : `; check the key in ${this.model.api_key_env}`
            }`,
          ],
          notes: [],
        };
      }
      if (
        failure.kind === "http" &&
        [404, 405, 501].includes(failure.status ?? 0)
      ) {
        return { errors: [], notes: [] };
      }
      return {
        errors: [],
        notes: [
          `mappa: could not check ${this.#where} before the run (${failure.kind}: ${failure.message}); going on`,
        ],
      };
    }
  }

  /** Sends one chat completion request, with retries; resolves with the reply or why there is none. */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    const started = performance.now();
    const body = this.#body(request);
    const signal = request.signal;
    let attempts = 0;
    while (true) {
      let release: (() => void) | undefined;
      try {
        release = await this.#slots.acquire(signal);
        await this.#starts?.acquire(signal);
      } catch {
        release?.();
        return this.#failure(ABORTED, attempts, started);
      }
      attempts++;
      let failure: AttemptFailure;
      try {
        const data: unknown = await this.#sdk.chat.completions.create(body, {
          maxRetries: 0,
          ...(signal !== undefined ? { signal } : {}),
        });
        const parsed = parseCompletion(data);
        const refused = parsed.ok
          ? REFUSALS.has(parsed.completion.finish_reason ?? "")
          : false;
        if (parsed.ok && !refused) {
          return this.#success(parsed.completion, attempts, started);
        }
        failure = parsed.ok
          ? {
            // A provider's refusal is not the agent's reply: retried, then a model failure, never judged.
            kind: "refused",
            message:
              `the provider refused to answer (finish_reason ${parsed.completion.finish_reason})`,
            retryable: true,
          }
          : {
            kind: "malformed",
            message: parsed.message,
            retryable: true,
          };
      } catch (error) {
        failure = signal?.aborted ? ABORTED : describeError(error, this.model);
      } finally {
        release();
      }
      if (!failure.retryable || attempts > this.model.max_retries) {
        return this.#failure(failure, attempts, started);
      }
      const wait = retryDelayMs(
        attempts,
        failure.retryAfterMs,
        this.#retry,
        this.#random,
      );
      try {
        await sleep(wait, signal);
      } catch {
        return this.#failure(ABORTED, attempts, started);
      }
    }
  }

  #body(request: ModelRequest): ChatBody {
    // The request's sampling (e.g. a judge's temperature 0 and seed) overrides the model's.
    const s = { ...this.model.sampling, ...request.sampling };
    // Spec fields the SDK does not type (min_tokens, extra_body) go into the JSON body as they are.
    const extra: Record<string, unknown> = {
      ...s.extra_body,
      ...(s.min_tokens !== undefined ? { min_tokens: s.min_tokens } : {}),
    };
    return {
      ...extra,
      model: this.model.model,
      messages: request.messages.map(openaiChatMessage),
      ...(request.tools !== undefined && request.tools.length > 0
        ? { tools: request.tools.map(openaiChatTool) }
        : {}),
      ...(request.response_format !== undefined
        ? {
          response_format: {
            type: "json_schema" as const,
            json_schema: {
              name: request.response_format.name,
              schema: request.response_format.schema,
              strict: true,
            },
          },
        }
        : {}),
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
      ...(s.top_p !== undefined ? { top_p: s.top_p } : {}),
      ...(s.max_tokens !== undefined ? { max_tokens: s.max_tokens } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      ...(s.stop !== undefined ? { stop: s.stop } : {}),
      ...(s.presence_penalty !== undefined
        ? { presence_penalty: s.presence_penalty }
        : {}),
      ...(s.frequency_penalty !== undefined
        ? { frequency_penalty: s.frequency_penalty }
        : {}),
    };
  }

  #success(
    completion: Completion,
    attempts: number,
    started: number,
  ): ModelResponse {
    const { usage, model_name, ...rest } = completion;
    const price = this.model.price;
    return {
      ok: true,
      ...rest,
      usage: usage ?? { prompt_tokens: 0, completion_tokens: 0 },
      latency_ms: performance.now() - started,
      // Unknown without a price, and unknown when the server reported no usage.
      cost_usd: price === undefined || usage === undefined
        ? null
        : (usage.prompt_tokens * price.input_per_mtok +
          usage.completion_tokens * price.output_per_mtok) / 1e6,
      attempts,
      provider: "openai",
      model_name: model_name ?? this.model.model,
    };
  }

  #failure(
    failure: AttemptFailure,
    attempts: number,
    started: number,
  ): ModelResponse {
    const exhausted = failure.retryable && failure.kind !== "aborted" &&
      attempts > 1;
    const message = exhausted
      ? `Cannot get a reply from ${this.#where}: ${attempts} attempts failed, the last with ${failure.kind}: ${failure.message}`
      : `Cannot get a reply from ${this.#where}: ${failure.message}`;
    return {
      ok: false,
      error: {
        kind: exhausted ? "exhausted" : failure.kind,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        message,
      },
      attempts,
      latency_ms: performance.now() - started,
      provider: "openai",
    };
  }
}

const ABORTED: AttemptFailure = {
  kind: "aborted",
  message: "the request was aborted",
  retryable: false,
};

/** Maps what the SDK threw for one attempt to a failure; SDK error classes are only known here. */
function describeError(error: unknown, model: Model): AttemptFailure {
  if (error instanceof OpenAI.APIUserAbortError) return ABORTED;
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return {
      kind: "timeout",
      message: `no complete reply within timeout_s = ${model.timeout_s}`,
      retryable: true,
    };
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error
      ? `: ${error.cause.message}`
      : "";
    return {
      kind: "connection",
      message: `the connection failed${cause}`,
      retryable: true,
    };
  }
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const status = error.status;
    const said = (error.error as { message?: unknown } | undefined)?.message;
    // A proxy's HTML error page has no JSON message: keep the start of what it said.
    const detail = typeof said === "string"
      ? said
      : error.message.replace(/^\d{3}\s*/, "").slice(0, 300);
    const shouldRetry = error.headers?.get("x-should-retry");
    const retryAfterMs = parseRetryAfter(error.headers);
    return {
      kind: "http",
      status,
      message: `HTTP ${status}${detail !== "" ? `: ${detail}` : ""}`,
      retryable: shouldRetry === "true" ||
        (shouldRetry !== "false" &&
          (status === 408 || status === 429 || status >= 500)),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (error instanceof SyntaxError) {
    return {
      kind: "malformed",
      message: `the body is not valid JSON: ${error.message}`,
      retryable: true,
    };
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return ABORTED;
  }
  // Deno's fetch rejects a body that ends early (short Content-Length, unfinished chunks) with a TypeError.
  const text = error instanceof Error ? error.message : String(error);
  return {
    kind: "malformed",
    message: `the body could not be read in full: ${text}`,
    retryable: true,
  };
}

/**
 * A runtime message in the OpenAI chat shape, as the model client sends it (the trainer renders the same
 * shape when token ids are compared with an engine's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openaiChatMessage } from "./openai_client.ts";
 * assert.deepEqual(openaiChatMessage({ role: "user", content: "hi" }), { role: "user", content: "hi" });
 * ```
 */
export function openaiChatMessage(
  m: ChatMessage,
): OpenAI.Chat.ChatCompletionMessageParam {
  switch (m.role) {
    case "system":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: m.content };
    case "tool":
      return {
        role: "tool",
        content: m.content,
        tool_call_id: m.tool_call_id ?? "",
      };
    case "assistant":
      return {
        role: "assistant",
        content: m.content,
        ...(m.tool_calls !== undefined && m.tool_calls.length > 0
          ? {
            tool_calls: m.tool_calls.map((c) => ({
              id: c.id,
              type: "function" as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
          : {}),
      };
  }
}

/**
 * A runtime tool in the OpenAI chat shape, as the model client offers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openaiChatTool } from "./openai_client.ts";
 * const tool = openaiChatTool({ name: "run", description: "Runs code", parameters: { type: "object" } });
 * assert.equal(tool.function.name, "run");
 * ```
 */
export function openaiChatTool(
  t: ToolSpec,
): OpenAI.Chat.ChatCompletionFunctionTool {
  return {
    type: "function",
    function: {
      name: t.name,
      description: t.description,
      parameters: t.parameters,
    },
  };
}

/** The URL's scheme, host and port: never its user-info, which may hold a credential. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an unparsable base_url";
  }
}
