import { parseJsonLine } from "../runtime/mod.ts";
import { HttpCallError, HttpJson, issueAt } from "./_http_json.ts";
import {
  type LogprobsReply,
  LogprobsReplySchema,
  type PolicyConfig,
  type PolicyState,
  PolicyStateSchema,
  type RenderReply,
  RenderReplySchema,
  type TrainDone,
  TrainerErrorBodySchema,
  type TrainerInfo,
  TrainerInfoSchema,
  type TrainLine,
  TrainLineSchema,
  type TrainRequest,
} from "./protocol.ts";

/**
 * A trainer reply that is an error, or is not what the protocol says: what, where, and how to fix. Its
 * `code` is the protocol's error code (`version_conflict`, `no_signal`, …), or `malformed` / `unreachable`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrainerClient, TrainerError } from "./trainer_client.ts";
 * const err = await new TrainerClient("http://127.0.0.1:9").info().catch((e) => e);
 * assert(err instanceof TrainerError && err.code === "unreachable");
 * ```
 */
export class TrainerError extends HttpCallError {}

/** Options of {@linkcode TrainerClient}. */
export interface TrainerClientOptions {
  /** Per-request timeout of calls other than `/train`. @default 60000 */
  readonly timeoutMs?: number;
  /** Timeout of one `/train` call. @default 1800000 */
  readonly trainTimeoutMs?: number;
}

/**
 * The HTTP client of the trainer protocol (reference/trainer-protocol.md §4). Every reply is validated
 * against `training/protocol.ts`; an error reply or a malformed one throws {@linkcode TrainerError}.
 *
 * @example
 * ```ts ignore
 * const trainer = new TrainerClient("http://127.0.0.1:8000");
 * const info = await trainer.info();
 * const done = await trainer.train({ policy_id: "solver", expected_version: 0, idempotency_key: "s1", samples });
 * ```
 */
export class TrainerClient {
  /** The base URL, without a trailing slash and without `/v1`. */
  readonly baseUrl: string;
  readonly #trainTimeoutMs: number;
  readonly #http: HttpJson;

  constructor(baseUrl: string, options: TrainerClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new TypeError(
        `Cannot use trainer URL "${baseUrl}": it is not a URL; pass e.g. http://127.0.0.1:8000 or "local"`,
      );
    }
    this.baseUrl = url.href.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.#trainTimeoutMs = options.trainTimeoutMs ?? 1_800_000;
    this.#http = new HttpJson(this.baseUrl, {
      timeoutMs: options.timeoutMs ?? 60_000,
      unreachable: (call, reason) =>
        new TrainerError(
          `Cannot reach the trainer at ${this.baseUrl} (${call}): ${reason}; check that it is running, or use --trainer local`,
          "unreachable",
          null,
        ),
      refused: (res, call) => this.#errorOf(res, call),
      malformed: (call, reply) =>
        reply.json
          ? new TrainerError(
            `The trainer's reply to ${call} is not what protocol 1 says: ${
              issueAt(reply.issue)
            }`,
            "malformed",
            reply.status,
            reply.data,
          )
          : new TrainerError(
            `The trainer's reply to ${call} is not JSON`,
            "malformed",
            reply.status,
          ),
    });
  }

  /** The OpenAI-compatible base URL the runtime's model client calls. */
  get openaiBaseUrl(): string {
    return `${this.baseUrl}/v1`;
  }

  /** `GET /v1/info`. */
  async info(): Promise<TrainerInfo> {
    return await this.#http.json(
      { method: "GET", path: "/v1/info" },
      TrainerInfoSchema,
    );
  }

  /** `PUT /v1/policies/{id}`: creates the policy, or returns it unchanged when it exists with this config. */
  async putPolicy(id: string, config: PolicyConfig): Promise<PolicyState> {
    return await this.#http.json({
      method: "PUT",
      path: `/v1/policies/${encodeURIComponent(id)}`,
      body: config,
    }, PolicyStateSchema);
  }

  /** `GET /v1/policies/{id}`. */
  async policy(id: string): Promise<PolicyState> {
    return await this.#http.json({
      method: "GET",
      path: `/v1/policies/${encodeURIComponent(id)}`,
    }, PolicyStateSchema);
  }

  /** `POST /v1/policies/{id}/restore`: loads the checkpoint of `version`. */
  async restore(id: string, version: number): Promise<PolicyState> {
    return await this.#http.json({
      method: "POST",
      path: `/v1/policies/${encodeURIComponent(id)}/restore`,
      body: { version },
    }, PolicyStateSchema);
  }

  /** `POST /v1/render`: the trainer's token ids of `messages` (OpenAI chat shape) under its chat template. */
  async render(request: {
    messages: readonly unknown[];
    tools?: readonly unknown[];
    add_generation_prompt: boolean;
  }): Promise<RenderReply> {
    return await this.#http.json(
      { method: "POST", path: "/v1/render", body: request },
      RenderReplySchema,
    );
  }

  /** `POST /v1/logprobs`: each token's log-probability under `policy_id` at `version` (the base when no policy). */
  async logprobs(request: {
    policy_id?: string;
    version?: number;
    token_ids: readonly number[];
  }): Promise<LogprobsReply> {
    return await this.#http.json(
      { method: "POST", path: "/v1/logprobs", body: request },
      LogprobsReplySchema,
    );
  }

  /** `GET /v1/policies/{id}/adapter?version=`: the PEFT adapter directory of a version, as a tar stream. */
  async adapterTar(
    id: string,
    version: number,
  ): Promise<ReadableStream<Uint8Array>> {
    const path = `/v1/policies/${
      encodeURIComponent(id)
    }/adapter?version=${version}`;
    const res = await this.#http.send({ method: "GET", path });
    if (!res.ok) throw await this.#errorOf(res, `GET ${path}`);
    if (res.body === null) {
      throw new TrainerError(
        `The trainer's reply to GET ${path} has no body`,
        "malformed",
        res.status,
      );
    }
    return res.body;
  }

  /** `POST /v1/train`: one update of one policy; progress lines go to `onProgress`, the `done` line is returned. */
  async train(
    request: TrainRequest,
    onProgress?: (line: Extract<TrainLine, { type: "progress" }>) => void,
  ): Promise<TrainDone> {
    const res = await this.#http.send({
      method: "POST",
      path: "/v1/train",
      body: request,
      timeoutMs: this.#trainTimeoutMs,
    });
    if (!res.ok) throw await this.#errorOf(res, "POST /v1/train");
    let done: TrainDone | undefined;
    let tail = "";
    // Lines are handled as they arrive, so progress is live during a long update.
    for await (const [i, raw] of ndjsonLines(res)) {
      tail = raw;
      if (raw.trim() === "") continue;
      const parsed = parseJsonLine(TrainLineSchema, raw);
      if (!parsed?.success) {
        throw new TrainerError(
          `Cannot read line ${
            i + 1
          } of the trainer's /v1/train reply for policy "${request.policy_id}": ${
            JSON.stringify(raw.slice(0, 200))
          } is not a progress, done or error record; check that the trainer speaks protocol 1`,
          "malformed",
          res.status,
          raw,
        );
      }
      const line = parsed.data;
      if (line.type === "progress") onProgress?.(line);
      else if (line.type === "error") {
        throw new TrainerError(
          `The trainer failed to train policy "${request.policy_id}": ${line.error}: ${line.message}; its version is unchanged`,
          line.error,
          res.status,
          line,
        );
      } else done = line;
    }
    if (done === undefined) {
      throw new TrainerError(
        `The trainer's /v1/train reply for policy "${request.policy_id}" ended without a done record (the trainer may have died; see its log)`,
        "malformed",
        res.status,
        tail.slice(-500),
      );
    }
    if (done.policy_id !== request.policy_id) {
      throw new TrainerError(
        `The trainer's /v1/train reply names policy "${done.policy_id}", but policy "${request.policy_id}" was trained; check that nothing else shares this trainer`,
        "malformed",
        res.status,
        done,
      );
    }
    if (done.new_version !== request.expected_version + 1) {
      throw new TrainerError(
        `The trainer published version ${done.new_version} of policy "${request.policy_id}" after training version ${request.expected_version}; the protocol requires exactly +1`,
        "malformed",
        res.status,
        done,
      );
    }
    return done;
  }

  async #errorOf(res: Response, what: string): Promise<TrainerError> {
    const text = await res.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch { /* not JSON: kept as text */ }
    const parsed = TrainerErrorBodySchema.safeParse(data);
    if (!parsed.success) {
      return new TrainerError(
        `The trainer answered ${what} with HTTP ${res.status}: ${
          text.slice(0, 300)
        }`,
        `http_${res.status}`,
        res.status,
        data,
      );
    }
    const err = parsed.data.error;
    const code = typeof err === "string"
      ? err
      : err.code ?? `http_${res.status}`;
    const message = parsed.data.message ??
      (typeof err === "string" ? err : err.message);
    return new TrainerError(
      `The trainer refused ${what} (HTTP ${res.status} ${code}): ${message}`,
      code,
      res.status,
      parsed.data,
    );
  }
}

/** The lines of an NDJSON body with their indexes, as they arrive; a body cut short ends the lines. */
async function* ndjsonLines(res: Response): AsyncGenerator<[number, string]> {
  if (res.body === null) return;
  let buffer = "";
  let index = 0;
  try {
    for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        yield [index++, buffer.slice(0, nl)];
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch {
    // The connection broke mid-stream: what arrived is all there is (no done record follows).
  }
  if (buffer.trim() !== "") yield [index, buffer];
}
