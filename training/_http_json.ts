import type { z } from "zod";

// What mappa's two HTTP clients share (the trainer's, training/trainer_client.ts, and a vLLM engine's,
// training/_engine_http.ts): a JSON request under a timeout, and a reply checked against a zod schema.
// Each client words its own errors; this file only decides when one is due.

/** A failed call to an HTTP server: what went wrong, a code for it, the HTTP status and what came back. */
export class HttpCallError<Body = unknown> extends Error {
  /** What kind of failure: the client's codes, e.g. `unreachable` or `malformed`. */
  readonly code: string;
  /** The reply's HTTP status; null when there was no reply. */
  readonly status: number | null;
  /** The reply's body or what the server said, where it helps. */
  readonly body: Body | undefined;
  constructor(
    message: string,
    code: string,
    status: number | null,
    body?: Body,
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

/** A 2xx reply that is not what the schema says: `json` is false when the body is not JSON at all. */
export interface MalformedReply {
  readonly status: number;
  readonly json: boolean;
  readonly data: unknown;
  /** The schema's first complaint (for a body that is not JSON: about `undefined`). */
  readonly issue: z.core.$ZodIssue;
}

/** How a client words the failures of its calls; `call` is `<METHOD> <path>`. */
export interface HttpJsonWording {
  /** No reply: the server is down, the URL is wrong, or the timeout passed; `reason` is fetch's. */
  unreachable(call: string, reason: string): Error;
  /** A reply whose status is not 2xx. */
  refused(res: Response, call: string): Promise<Error>;
  /** A 2xx reply whose body is not what the schema says. */
  malformed(call: string, reply: MalformedReply): Error;
}

/** The wording of a client's failures, and its calls' timeout. */
export interface HttpJsonOptions extends HttpJsonWording {
  /** How long a call may take, unless the call says otherwise. */
  readonly timeoutMs: number;
}

/** One call: method, path below the base URL, JSON body (none when absent), and its own timeout. */
export interface HttpJsonCall {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

/** The JSON calls of one HTTP server, failing in the words of its client. */
export class HttpJson {
  readonly #baseUrl: string;
  readonly #options: HttpJsonOptions;

  constructor(baseUrl: string, options: HttpJsonOptions) {
    this.#baseUrl = baseUrl;
    this.#options = options;
  }

  /** Sends `call`; any reply is returned, whatever its status. */
  async send(call: HttpJsonCall): Promise<Response> {
    const { method, path, body } = call;
    try {
      return await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: body === undefined
          ? {}
          : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(call.timeoutMs ?? this.#options.timeoutMs),
      });
    } catch (e) {
      throw this.#options.unreachable(
        `${method} ${path}`,
        e instanceof Error ? e.message : String(e),
      );
    }
  }

  /** Sends `call` and returns its 2xx reply's body as `schema` parses it. */
  async json<S extends z.ZodType>(
    call: HttpJsonCall,
    schema: S,
  ): Promise<z.infer<S>> {
    const what = `${call.method} ${call.path}`;
    const res = await this.send(call);
    if (!res.ok) throw await this.#options.refused(res, what);
    let data: unknown;
    let json = true;
    try {
      data = await res.json();
    } catch {
      json = false;
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw this.#options.malformed(what, {
        status: res.status,
        json,
        data,
        issue: parsed.error.issues[0]!,
      });
    }
    return parsed.data;
  }
}

/** Where a schema issue is, as the clients' messages say it: its path, or "the body". */
export function issueAt(issue: z.core.$ZodIssue): string {
  return `at ${issue.path.join(".") || "the body"}: ${issue.message}`;
}
