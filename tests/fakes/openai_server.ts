/**
 * A loopback OpenAI-compatible chat server for tests: scripted replies, latency and faults.
 *
 * It speaks HTTP/1.1 on a raw `Deno.listen` socket rather than `Deno.serve`, because the faults tests
 * need (a Content-Length larger than the body, closing mid-body, dropping the connection before any
 * response) are exactly what a conforming server such as `Deno.serve` refuses to produce. Every
 * response carries `connection: close`, so each request has its own connection and a fault never
 * leaks into the next request.
 */

/** One tool call in a fake reply. */
export interface FakeToolCall {
  readonly id?: string;
  readonly name: string;
  /** JSON text of the arguments. */
  readonly arguments: string;
}

/** The content of a successful chat completion. */
export interface FakeReply {
  /** @default "ok" */
  readonly text?: string | null;
  readonly reasoning_content?: string;
  readonly tool_calls?: readonly FakeToolCall[];
  /** @default "tool_calls" when there are tool calls, else "stop" */
  readonly finish_reason?: string;
  /** `null` leaves usage out of the reply. @default { prompt_tokens: 10, completion_tokens: 5 } */
  readonly usage?: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
  } | null;
  /** vLLM `return_token_ids`: put on the response, or on the choice when `prompt_ids_on` says so. */
  readonly prompt_token_ids?: readonly number[];
  /** @default "response" */
  readonly prompt_ids_on?: "response" | "choice";
  /** vLLM `return_token_ids`: the completion's token ids, on the choice. */
  readonly token_ids?: readonly number[];
  /** `logprobs.content[i].logprob` of the choice. */
  readonly logprobs?: readonly number[];
  /** @default the request's model */
  readonly model?: string;
  /** An attached trainer's stamp: the version of the policy that sampled the reply. */
  readonly policy_version?: number;
}

/** What the server does with one request. */
export type FakeAction =
  | { readonly kind: "reply"; readonly reply?: FakeReply }
  /** Any status with an OpenAI-style error body; e.g. 429 with `retry-after`, 500, 400. */
  | {
    readonly kind: "status";
    readonly status: number;
    readonly headers?: Readonly<Record<string, string>>;
    readonly message?: string;
    /** A raw body sent as text/html instead of the JSON error (a proxy's error page). */
    readonly html?: string;
  }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { readonly kind: "hang" }
  /** 200 with a JSON content type and a body that is not JSON. */
  | { readonly kind: "malformed"; readonly body?: string }
  /** 200 whose body stops half-way: a short Content-Length body, or chunked without the last chunk. */
  | {
    readonly kind: "truncated";
    readonly framing?: "content_length" | "chunked";
  }
  /** Closes the connection without any response. */
  | { readonly kind: "reset" };

/** A request as the server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly raw_body: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly body: unknown;
  /** `performance.now()` when the request was fully read. */
  readonly received_at: number;
}

/** Options of {@linkcode startOpenAIServer}. */
export interface OpenAIServerOptions {
  /** Actions for the first requests, in order; then `respond`. @default [] */
  readonly queue?: readonly FakeAction[];
  /** The action for a request once the queue is empty. @default a "reply" echoing nothing: text "ok" */
  readonly respond?: (
    request: RecordedRequest,
    index: number,
  ) => FakeAction | Promise<FakeAction>;
  /** Delay before every response (not before a reset or a hang). @default 0 */
  readonly latency_ms?: number;
  /** Model ids `GET /v1/models` lists, as an OpenAI server does; absent: 404 there, as some servers. */
  readonly models?: readonly string[];
  /** The key the server requires (`Authorization: Bearer <key>`); any other gets 401, as OpenAI answers. */
  readonly api_key?: string;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const HEADER_END = ENCODER.encode("\r\n\r\n");
const MAX_HEAD_BYTES = 64 * 1024;
const CHAT_PATHS = new Set(["/v1/chat/completions", "/chat/completions"]);

/** A running fake server; close it (or `await using` it) before the test ends. */
export class FakeOpenAIServer {
  /** Base URL to give the openai SDK, ending in `/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order, but `GET /models` (counted in `modelListings`). */
  readonly requests: RecordedRequest[] = [];
  /** `GET /v1/models` requests received. */
  modelListings = 0;
  #inFlight = 0;
  #maxInFlight = 0;
  readonly #listener: Deno.TcpListener;
  readonly #queue: FakeAction[];
  readonly #options: OpenAIServerOptions;
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  #accepting: Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(listener: Deno.TcpListener, options: OpenAIServerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#queue = [...(options.queue ?? [])];
    this.port = listener.addr.port;
    this.url = `http://127.0.0.1:${this.port}/v1`;
    this.#accepting = this.#accept();
  }

  /** Requests being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests ever handled at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Appends actions for the next requests. */
  enqueue(...actions: FakeAction[]): void {
    this.#queue.push(...actions);
  }

  /** Stops accepting, drops open connections (hung requests included) and waits for every handler. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      this.#listener.close();
      for (const conn of this.#conns) closeQuietly(conn);
      await this.#accepting;
      await Promise.allSettled([...this.#tasks]);
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // the listener was closed
      }
      this.#conns.add(conn);
      const task = this.#handle(conn).catch(() => {}).finally(() => {
        this.#conns.delete(conn);
        closeQuietly(conn);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  #modelList(request: RecordedRequest): string {
    const key = this.#options.api_key;
    if (
      key !== undefined && request.headers["authorization"] !== `Bearer ${key}`
    ) return errorResponse(401, "Incorrect API key provided");
    const models = this.#options.models;
    if (models === undefined) {
      return errorResponse(404, `No route ${request.path}`);
    }
    return jsonResponse(200, {
      object: "list",
      data: models.map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "fake",
      })),
    });
  }

  async #handle(conn: Deno.Conn): Promise<void> {
    const request = await readRequest(conn);
    if (request === undefined) return;
    if (
      request.method === "GET" &&
      (request.path === "/v1/models" || request.path === "/models")
    ) {
      // A client's listing (mappa's preflight) is counted apart, so `requests` holds the chat traffic.
      this.modelListings++;
      await writeAll(conn, this.#modelList(request));
      return;
    }
    this.requests.push(request);
    const index = this.requests.length - 1;
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    try {
      const key = this.#options.api_key;
      if (
        key !== undefined &&
        request.headers["authorization"] !== `Bearer ${key}`
      ) {
        await writeAll(
          conn,
          errorResponse(401, "Incorrect API key provided"),
        );
        return;
      }
      if (request.method !== "POST" || !CHAT_PATHS.has(request.path)) {
        await writeAll(conn, errorResponse(404, `No route ${request.path}`));
        return;
      }
      const action = this.#queue.shift() ??
        await this.#options.respond?.(request, index) ??
        { kind: "reply" };
      await this.#perform(conn, request, action);
    } finally {
      this.#inFlight--;
    }
  }

  async #perform(
    conn: Deno.Conn,
    request: RecordedRequest,
    action: FakeAction,
  ): Promise<void> {
    if (action.kind === "reset") return;
    if (action.kind === "hang") {
      await drainUntilClosed(conn);
      return;
    }
    await sleep(this.#options.latency_ms ?? 0, this.#closing.signal);
    switch (action.kind) {
      case "reply":
        await writeAll(
          conn,
          jsonResponse(200, completionBody(request, action.reply ?? {})),
        );
        return;
      case "status":
        await writeAll(
          conn,
          action.html !== undefined
            ? rawResponse(action.status, action.html, {
              "content-type": "text/html",
              ...action.headers,
            })
            : errorResponse(action.status, action.message, action.headers),
        );
        return;
      case "malformed":
        await writeAll(
          conn,
          rawResponse(200, action.body ?? '{"id": "chatcmpl-1", "choices": [', {
            "content-type": "application/json",
          }),
        );
        return;
      case "truncated": {
        const body = JSON.stringify(completionBody(request, {}));
        const half = body.slice(0, Math.floor(body.length / 2));
        if (action.framing === "chunked") {
          const size = ENCODER.encode(half).length.toString(16);
          await writeAll(
            conn,
            head(200, {
              "content-type": "application/json",
              "transfer-encoding": "chunked",
            }) + `${size}\r\n${half}\r\n`,
          );
        } else {
          await writeAll(
            conn,
            head(200, {
              "content-type": "application/json",
              "content-length": String(ENCODER.encode(body).length),
            }) + half,
          );
        }
        return;
      }
    }
  }
}

/**
 * Starts a fake OpenAI-compatible server on 127.0.0.1 at a free port.
 *
 * @example
 * ```ts ignore
 * await using server = await startOpenAIServer({ queue: [{ kind: "status", status: 500 }] });
 * const client = new OpenAI({ baseURL: server.url, apiKey: "k" });
 * ```
 */
export function startOpenAIServer(
  options: OpenAIServerOptions = {},
): Promise<FakeOpenAIServer> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return Promise.resolve(new FakeOpenAIServer(listener, options));
}

/** The body of a chat completion for `reply`, in the shape OpenAI and vLLM return. */
export function completionBody(
  request: RecordedRequest,
  reply: FakeReply,
): Record<string, unknown> {
  const requested = (request.body as { model?: unknown } | undefined)?.model;
  const toolCalls = reply.tool_calls ?? [];
  const choice: Record<string, unknown> = {
    index: 0,
    message: {
      role: "assistant",
      content: reply.text === undefined ? "ok" : reply.text,
      ...(reply.reasoning_content !== undefined
        ? { reasoning_content: reply.reasoning_content }
        : {}),
      ...(toolCalls.length > 0
        ? {
          tool_calls: toolCalls.map((c, i) => ({
            id: c.id ?? `call_${i}`,
            type: "function",
            function: { name: c.name, arguments: c.arguments },
          })),
        }
        : {}),
    },
    finish_reason: reply.finish_reason ??
      (toolCalls.length > 0 ? "tool_calls" : "stop"),
    logprobs: reply.logprobs === undefined ? null : {
      content: reply.logprobs.map((logprob, i) => ({
        token: `token_id:${reply.token_ids?.[i] ?? i}`,
        logprob,
        bytes: null,
        top_logprobs: [],
      })),
    },
  };
  if (reply.token_ids !== undefined) choice.token_ids = reply.token_ids;
  const promptOnChoice = reply.prompt_ids_on === "choice";
  if (reply.prompt_token_ids !== undefined && promptOnChoice) {
    choice.prompt_token_ids = reply.prompt_token_ids;
  }
  const usage = reply.usage === undefined
    ? { prompt_tokens: 10, completion_tokens: 5 }
    : reply.usage;
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 0,
    model: reply.model ?? (typeof requested === "string" ? requested : "fake"),
    ...(reply.policy_version !== undefined
      ? { policy_version: reply.policy_version }
      : {}),
    choices: [choice],
    ...(usage === null ? {} : {
      usage: {
        ...usage,
        total_tokens: usage.prompt_tokens + usage.completion_tokens,
      },
    }),
    ...(reply.prompt_token_ids !== undefined && !promptOnChoice
      ? { prompt_token_ids: reply.prompt_token_ids }
      : {}),
  };
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  408: "Request Timeout",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

function head(status: number, headers: Record<string, string>): string {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`];
  for (const [k, v] of Object.entries({ ...headers, connection: "close" })) {
    lines.push(`${k}: ${v}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

function rawResponse(
  status: number,
  body: string,
  headers: Record<string, string>,
): string {
  return head(status, {
    ...headers,
    "content-length": String(ENCODER.encode(body).length),
  }) + body;
}

function jsonResponse(status: number, value: unknown): string {
  return rawResponse(status, JSON.stringify(value), {
    "content-type": "application/json",
  });
}

function errorResponse(
  status: number,
  message = `fake status ${status}`,
  headers: Readonly<Record<string, string>> = {},
): string {
  return rawResponse(
    status,
    JSON.stringify({ error: { message, type: "fake_error", code: null } }),
    { "content-type": "application/json", ...headers },
  );
}

async function readRequest(
  conn: Deno.Conn,
): Promise<RecordedRequest | undefined> {
  let buf: Uint8Array = new Uint8Array(0);
  let headEnd = -1;
  const chunk = new Uint8Array(16 * 1024);
  while (headEnd < 0) {
    const n = await conn.read(chunk).catch(() => null);
    if (n === null) return undefined;
    buf = concat(buf, chunk.subarray(0, n));
    headEnd = indexOf(buf, HEADER_END);
    if (headEnd < 0 && buf.length > MAX_HEAD_BYTES) return undefined;
  }
  const [requestLine = "", ...headerLines] = DECODER.decode(
    buf.subarray(0, headEnd),
  ).split("\r\n");
  const [method = "", target = ""] = requestLine.split(" ");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1)
        .trim();
    }
  }
  const length = Number(headers["content-length"] ?? 0);
  let body: Uint8Array = buf.subarray(headEnd + HEADER_END.length);
  while (body.length < length) {
    const n = await conn.read(chunk).catch(() => null);
    if (n === null) return undefined;
    body = concat(body, chunk.subarray(0, n));
  }
  const raw = DECODER.decode(body.subarray(0, length));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  return {
    method,
    path: target.split("?")[0] ?? "",
    headers,
    raw_body: raw,
    body: parsed,
    received_at: performance.now(),
  };
}

async function drainUntilClosed(conn: Deno.Conn): Promise<void> {
  const chunk = new Uint8Array(1024);
  while (await conn.read(chunk).catch(() => null) !== null) {
    // discard: the client sends nothing more; read returns null once it hangs up
  }
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  let data = ENCODER.encode(text);
  while (data.length > 0) {
    const n = await conn.write(data);
    data = data.subarray(n);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
