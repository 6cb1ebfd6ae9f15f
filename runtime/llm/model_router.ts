import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
  PreflightReport,
} from "../ports.ts";

/** Why a spec model has no endpoint: `no_base_url` (openai provider) or `no_script` (scripted). */
export type UnconfiguredReason = "no_base_url" | "no_script";

/** How requests for one spec model are answered. Wire-like record, so snake_case keys. */
export type ModelRoute =
  | {
    readonly provider: "openai";
    readonly model_name: string;
    /** Scheme, host and port of the endpoint; never the URL's user-info. */
    readonly endpoint: string;
    /** `unset`: the spec names a key variable that is not set, so a placeholder key is sent. */
    readonly api_key: "set" | "unset" | "not_named";
  }
  | {
    readonly provider: "scripted";
    readonly model_name: string;
    /** The script file, or "inline" for a script given in code. */
    readonly script: string;
  }
  | {
    readonly provider: "unconfigured";
    readonly model_name: string;
    readonly reason: UnconfiguredReason;
    /** Whether the caller's fallback client (the demo policy) answers instead. */
    readonly fallback: boolean;
  };

/** A spec model with no endpoint, as the CLI reports it before using the demo policy. */
export interface UnconfiguredModel {
  /** The spec's model id. */
  readonly model: string;
  readonly reason: UnconfiguredReason;
  readonly message: string;
  readonly hint: string;
}

/** A request for a model that has no endpoint and no fallback: check `unconfigured` first. */
export class ModelNotConfiguredError extends Error {
  readonly model: string;
  readonly reason: UnconfiguredReason;

  constructor(model: UnconfiguredModel) {
    super(`${model.message}; ${model.hint}`);
    this.name = "ModelNotConfiguredError";
    this.model = model.model;
    this.reason = model.reason;
  }
}

/** What a {@linkcode ModelRouter} routes: built by `createModelClient()`. */
export interface ModelRouterInit {
  /** Model id -> the client answering it (the fallback for unconfigured models, when given). */
  readonly clients: ReadonlyMap<string, ModelClient>;
  readonly routes: Readonly<Record<string, ModelRoute>>;
  readonly unconfigured: readonly UnconfiguredModel[];
}

/**
 * One {@linkcode ModelClient} for every model of a spec: sends each request to the client of
 * `request.model`, and says which models have no endpoint (`unconfigured`).
 *
 * `complete()` rejects only for a caller's mistake: `RangeError` for a model the spec does not
 * declare, {@linkcode ModelNotConfiguredError} for an unconfigured model when no fallback was given.
 *
 * @example
 * ```ts ignore
 * const router = await createModelClient(graph.models, { fallback: demoPolicy });
 * if (router.unconfigured.length > 0) console.error("no model endpoint: using the demo policy");
 * const reply = await router.complete(request); // routed by request.model
 * ```
 */
export class ModelRouter implements ModelClient {
  readonly routes: Readonly<Record<string, ModelRoute>>;
  readonly unconfigured: readonly UnconfiguredModel[];
  readonly #clients: ReadonlyMap<string, ModelClient>;

  constructor(init: ModelRouterInit) {
    this.#clients = init.clients;
    this.routes = init.routes;
    this.unconfigured = init.unconfigured;
  }

  /** Whether any request may be answered by something other than a real model endpoint. */
  get usesScriptedReplies(): boolean {
    return Object.values(this.routes).some((r) => r.provider !== "openai");
  }

  /** Forwards to every client (a client shared by several models, the fallback, is told once). */
  ensureConcurrency(limits: Readonly<Record<string, number>>): void {
    for (const client of new Set(this.#clients.values())) {
      client.ensureConcurrency?.(limits);
    }
  }

  /** Checks the endpoint of each of `models` (scripted and unconfigured models have none to check). */
  async preflight(models: readonly string[]): Promise<PreflightReport> {
    const reports = await Promise.all(
      models.filter((m) => this.routes[m]?.provider === "openai").map((m) =>
        this.#clients.get(m)?.preflight?.([m]) ??
          Promise.resolve({ errors: [], notes: [] })
      ),
    );
    return {
      errors: reports.flatMap((r) => r.errors),
      notes: reports.flatMap((r) => r.notes),
    };
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const client = this.#clients.get(request.model);
    if (client !== undefined) return await client.complete(request);
    const missing = this.unconfigured.find((u) => u.model === request.model);
    if (missing !== undefined) throw new ModelNotConfiguredError(missing);
    throw new RangeError(
      `Cannot route a request for model "${request.model}": the spec declares ${
        Object.keys(this.routes).map((m) => `"${m}"`).join(", ") || "no models"
      }`,
    );
  }
}
