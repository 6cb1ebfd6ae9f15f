import { z } from "zod";
import { HttpCallError, HttpJson, issueAt } from "./_http_json.ts";

// The HTTP calls mappa makes to one vLLM server (docs/vllm.md), each reply checked against the shape
// vLLM sends. Loose objects: vLLM adds fields from version to version.

const ModelsSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string(),
      root: z.string().nullish(),
      parent: z.string().nullish(),
    }),
  ),
});

const PromptLogprobsSchema = z.looseObject({
  choices: z.array(
    z.looseObject({
      prompt_logprobs: z.array(
        z.record(z.string(), z.looseObject({ logprob: z.number() })).nullable(),
      ).nullish(),
    }),
  ).min(1),
});

const TokenizeSchema = z.looseObject({ tokens: z.array(z.number().int()) });

// vLLM's error bodies: {error: {message, type, code}} (current) or {object: "error", message, …} (older);
// FastAPI's own {detail: …} for a route that is not mounted.
const CurrentErrorSchema = z.looseObject({
  error: z.looseObject({ message: z.string() }),
});
const OlderErrorSchema = z.looseObject({ message: z.string() });
const DetailSchema = z.looseObject({ detail: z.unknown() });

/**
 * A vLLM server that cannot be reached, refused a call, or answered out of shape. Its `code` is
 * `unreachable`, `model_not_found`, `no_route` (the endpoint is not mounted), `refused` or `malformed`.
 */
export class EngineError extends HttpCallError<string> {
  constructor(
    message: string,
    code: string,
    status: number | null,
    said = "",
  ) {
    super(message, code, status, said);
  }

  /** What the server said, for a refusal. */
  get said(): string {
    return this.body ?? "";
  }
}

/** One vLLM server's HTTP API, as mappa uses it. */
export class EngineHttp {
  /** The base URL, without a trailing slash or `/v1`. */
  readonly url: string;
  readonly #http: HttpJson;

  constructor(url: string, timeoutMs: number) {
    this.url = url.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.#http = new HttpJson(this.url, {
      timeoutMs,
      unreachable: (call, reason) =>
        new EngineError(
          `Cannot reach vLLM engine at ${this.url} (${call}): ${reason}; start it (docs/vllm.md) or fix train.rollout.urls`,
          "unreachable",
          null,
        ),
      refused: (res, call) => this.#errorOf(res, call),
      malformed: (call, reply) =>
        new EngineError(
          `Cannot read the reply of vLLM engine at ${this.url} to ${call}: ${
            issueAt(reply.issue)
          }; check that the URL is a vLLM OpenAI-compatible server`,
          "malformed",
          reply.status,
        ),
    });
  }

  /** `GET /health`: resolves once the server answers 200. */
  async health(): Promise<void> {
    const res = await this.#http.send({ method: "GET", path: "/health" });
    await res.body?.cancel();
    if (!res.ok) {
      throw new EngineError(
        `Cannot use vLLM engine at ${this.url}: GET /health answered HTTP ${res.status}; wait until it has started, or check its log`,
        "unreachable",
        res.status,
      );
    }
  }

  /** `GET /v1/models`: the base model(s) and the loaded adapters (those with a `parent`). */
  async models(): Promise<z.infer<typeof ModelsSchema>["data"]> {
    const reply = await this.#http.json(
      { method: "GET", path: "/v1/models" },
      ModelsSchema,
    );
    return reply.data;
  }

  /** `POST /v1/load_lora_adapter`. */
  async load(name: string, path: string): Promise<void> {
    const res = await this.#http.send({
      method: "POST",
      path: "/v1/load_lora_adapter",
      body: { lora_name: name, lora_path: path },
    });
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    throw await this.#errorOf(res, "POST /v1/load_lora_adapter");
  }

  /** `POST /v1/unload_lora_adapter`; a name the server does not know (it restarted) is not an error. */
  async unload(name: string): Promise<void> {
    const res = await this.#http.send({
      method: "POST",
      path: "/v1/unload_lora_adapter",
      body: { lora_name: name },
    });
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw await this.#errorOf(res, "POST /v1/unload_lora_adapter");
  }

  /**
   * The model's log-probability of each of `ids` given the ones before it (`null` at 0), from
   * `/v1/completions` with the ids as the prompt and `prompt_logprobs: 0`.
   */
  async promptLogprobs(
    model: string,
    ids: readonly number[],
  ): Promise<(number | null)[]> {
    const reply = await this.#http.json({
      method: "POST",
      path: "/v1/completions",
      body: {
        model,
        prompt: ids,
        max_tokens: 1,
        temperature: 1,
        prompt_logprobs: 0,
      },
    }, PromptLogprobsSchema);
    const rows = reply.choices[0]!.prompt_logprobs;
    if (!rows || rows.length !== ids.length) {
      throw new EngineError(
        `Cannot read prompt_logprobs from vLLM engine at ${this.url}: the reply has ${
          rows?.length ?? 0
        } rows for ${ids.length} prompt tokens; use a vLLM whose /v1/completions supports prompt_logprobs`,
        "malformed",
        200,
      );
    }
    return rows.map((row, t) => {
      if (t === 0) return null;
      const hit = row?.[String(ids[t])];
      if (hit === undefined) {
        throw new EngineError(
          `Cannot read prompt_logprobs from vLLM engine at ${this.url}: position ${t} has no entry for token ${
            ids[t]
          }`,
          "malformed",
          200,
        );
      }
      return hit.logprob;
    });
  }

  /** `POST /tokenize` of a conversation under the engine's chat template. */
  async tokenize(
    model: string,
    messages: readonly unknown[],
  ): Promise<number[]> {
    return (await this.#http.json({
      method: "POST",
      path: "/tokenize",
      body: { model, messages, add_generation_prompt: true },
    }, TokenizeSchema)).tokens;
  }

  async #errorOf(res: Response, what: string): Promise<EngineError> {
    const text = await res.text().catch(() => "");
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch { /* kept as text */ }
    const current = CurrentErrorSchema.safeParse(data);
    const older = OlderErrorSchema.safeParse(data);
    const detail = DetailSchema.safeParse(data);
    const said = current.success
      ? current.data.error.message
      : older.success
      ? older.data.message
      : detail.success
      ? JSON.stringify(detail.data.detail)
      : text.slice(0, 300);
    const code = res.status === 404 && detail.success && !current.success
      ? "no_route"
      : res.status === 404 && /does not exist/.test(said)
      ? "model_not_found"
      : "refused";
    return new EngineError(
      `Cannot use vLLM engine at ${this.url}: it answered ${what} with HTTP ${res.status}: ${said}`,
      code,
      res.status,
      said,
    );
  }
}
