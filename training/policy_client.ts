import type { ExecutionGraph, Model } from "../dsl/mod.ts";
import {
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  OpenAIModelClient,
} from "../runtime/mod.ts";

/** Options of {@linkcode PolicyModelClient}. */
export interface PolicyModelClientOptions {
  /** The trainer's OpenAI-compatible base URL (`http://host:port/v1`). */
  readonly baseUrl: string;
  /** The trained roles: each is served by the trainer as the policy of the same id, unless `policyOf` says otherwise. */
  readonly roles: readonly string[];
  /** The trainer's policy id of a role. @default the role id */
  readonly policyOf?: (role: string) => string;
  /**
   * `train`: the sampling contract of training actions (temperature 1, top_p 1, no penalties,
   * reference/trainer-protocol.md §5); `eval`: the role's model sampling as the spec declares it.
   */
  readonly mode: "train" | "eval";
  /**
   * An inference engine that serves the trained roles instead of the trainer (train.rollout, e.g.
   * VllmEngine): it gets each request with the role's model settings and picks the endpoint
   * and the adapter name.
   */
  readonly engine?: RolloutEngine;
  /**
   * In `train` mode, the base of each trained role's per-request sampling seed (e.g. `"<train.seed>:<step>"`,
   * read at each request): the seed is derived from it, the episode, the role, the turn and how many
   * calls that role made in the episode before, so a run's replies do not depend on how requests were
   * batched or ordered. Unset: unseeded sampling.
   */
  readonly seedBase?: () => string;
}

/** Serves trained roles' requests from adapters it loaded (a VllmEngine). */
export interface RolloutEngine {
  complete(
    role: string,
    model: Model,
    request: ModelRequest,
  ): Promise<ModelResponse>;
  /** Lets each role keep at least `limits[role]` requests in flight (the run's sizing, see ModelClient). */
  ensureConcurrency?(limits: Readonly<Record<string, number>>): void;
}

/**
 * The model client of a training run: requests of trained roles go to the attached trainer (model =
 * the role's policy id, which the trainer stamps with the version that sampled the reply, and whose
 * token ids and logprobs the runtime records); every other request goes to `base` (frozen roles, the
 * coach's judge). Non-trained roles keep their own endpoints.
 *
 * @example
 * ```ts ignore
 * const client = new PolicyModelClient(graph, router, { baseUrl: "http://127.0.0.1:8000/v1", roles: ["solver"], mode: "train" });
 * ```
 */
export class PolicyModelClient implements ModelClient {
  readonly #base: ModelClient;
  readonly #policies = new Map<string, OpenAIModelClient>();
  readonly #models = new Map<string, Model>();
  readonly #engine: RolloutEngine | undefined;
  /** Role id -> the spec model its requests name. */
  readonly #roleModels = new Map<string, string>();
  readonly #mode: "train" | "eval";
  readonly #seedBase: (() => string) | undefined;
  /** Calls so far per `<seed base>|<episode>|<role>`, for the current seed base only. */
  #calls = new Map<string, number>();
  #callsBase = "";

  constructor(
    graph: ExecutionGraph,
    base: ModelClient,
    options: PolicyModelClientOptions,
  ) {
    this.#base = base;
    this.#mode = options.mode;
    this.#engine = options.engine;
    this.#seedBase = options.seedBase;
    for (const id of options.roles) {
      const role = graph.roles.find((r) => r.id === id);
      if (role === undefined) {
        throw new RangeError(
          `Cannot train role "${id}": the pipeline has no such role (roles: ${
            graph.roles.map((r) => r.id).join(", ")
          })`,
        );
      }
      this.#roleModels.set(id, role.model);
      const declared = graph.models[role.model]!;
      const s = declared.sampling;
      const sampling: Model["sampling"] = options.mode === "train"
        ? {
          temperature: 1,
          top_p: 1,
          ...(s.max_tokens !== undefined ? { max_tokens: s.max_tokens } : {}),
          ...(s.stop !== undefined ? { stop: s.stop } : {}),
          // vLLM fills fields a request leaves out from the model's generation_config.json (top_k 20,
          // repetition_penalty 1.05, …): an engine is told the contract's neutral values too.
          ...(options.engine !== undefined
            ? { extra_body: { top_k: 0, min_p: 0, repetition_penalty: 1 } }
            : {}),
        }
        : {
          ...(s.temperature !== undefined
            ? { temperature: s.temperature }
            : {}),
          ...(s.top_p !== undefined ? { top_p: s.top_p } : {}),
          ...(s.max_tokens !== undefined ? { max_tokens: s.max_tokens } : {}),
          ...(s.stop !== undefined ? { stop: s.stop } : {}),
          ...(s.seed !== undefined ? { seed: s.seed } : {}),
        };
      const model: Model = {
        provider: "openai",
        model: options.policyOf?.(id) ?? id,
        base_url: options.baseUrl,
        sampling,
        max_concurrency: declared.max_concurrency,
        timeout_s: declared.timeout_s,
        // The trainer is attached: a refused connection means it died, so give up soon and let the loop say so.
        max_retries: Math.min(declared.max_retries, 2),
      };
      this.#models.set(id, model);
      if (options.engine === undefined) {
        this.#policies.set(id, new OpenAIModelClient(id, model));
      }
    }
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    const model = this.#models.get(request.role);
    // A judge request is attributed to the scored role but names the coach's model: it never goes to a policy.
    if (
      model !== undefined && request.purpose !== "judge" &&
      request.model === this.#roleModels.get(request.role) &&
      request.response_format === undefined
    ) {
      // Training actions keep the on-policy sampling contract, whatever the request asks.
      const { sampling: _ignored, ...rest } = request;
      const seed = this.#mode === "train" ? this.#seed(request) : undefined;
      const sent = {
        ...(this.#mode === "train" ? rest : request),
        ...(seed !== undefined ? { sampling: { seed } } : {}),
        model: request.role,
      };
      return this.#engine !== undefined
        ? this.#engine.complete(request.role, model, sent)
        : this.#policies.get(request.role)!.complete(sent);
    }
    return this.#base.complete(request);
  }

  #seed(request: ModelRequest): number | undefined {
    if (this.#seedBase === undefined) return undefined;
    const base = this.#seedBase();
    if (base !== this.#callsBase) {
      this.#calls = new Map();
      this.#callsBase = base;
    }
    const key = `${base}|${request.episode}|${request.role}`;
    const k = this.#calls.get(key) ?? 0;
    this.#calls.set(key, k + 1);
    return sampleSeed(`${key}|${request.turn}|${k}`);
  }

  /** Sizes the trained roles' clients by their spec model's limit, and the base client (frozen roles, judge). */
  ensureConcurrency(limits: Readonly<Record<string, number>>): void {
    this.#base.ensureConcurrency?.(limits);
    const byRole: Record<string, number> = {};
    for (const [role, model] of this.#roleModels) {
      const n = limits[model];
      if (n !== undefined) byRole[role] = n;
    }
    for (const policy of this.#policies.values()) {
      policy.ensureConcurrency(byRole);
    }
    this.#engine?.ensureConcurrency?.(byRole);
  }
}

/** A sampling seed in [0, 2^31) from a string: 32-bit FNV-1a. */
export function sampleSeed(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}
