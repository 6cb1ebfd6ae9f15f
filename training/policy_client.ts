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
  /** Role id -> the spec model its requests name. */
  readonly #roleModels = new Map<string, string>();
  readonly #mode: "train" | "eval";

  constructor(
    graph: ExecutionGraph,
    base: ModelClient,
    options: PolicyModelClientOptions,
  ) {
    this.#base = base;
    this.#mode = options.mode;
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
      this.#policies.set(id, new OpenAIModelClient(id, model));
    }
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    const policy = this.#policies.get(request.role);
    // A judge request is attributed to the scored role but names the coach's model: it never goes to a policy.
    if (
      policy !== undefined && request.purpose !== "judge" &&
      request.model === this.#roleModels.get(request.role) &&
      request.response_format === undefined
    ) {
      // Training actions keep the on-policy sampling contract, whatever the request asks.
      const { sampling: _ignored, ...rest } = request;
      return policy.complete({
        ...(this.#mode === "train" ? rest : request),
        model: request.role,
      });
    }
    return this.#base.complete(request);
  }
}
