import { resolve } from "node:path";
import type { Model } from "../dsl/mod.ts";
import {
  type ModelRequest,
  type ModelResponse,
  OpenAIModelClient,
} from "../runtime/mod.ts";
import { checkAdapterDir, writeAdapter } from "./_adapter_files.ts";
import {
  actionProbe,
  checkEngine,
  checkRoleTemplate,
  fixedProbe,
  loadAndVerify,
  type Probe,
  type ProbeFigures,
} from "./_engine_checks.ts";
import { EngineError, EngineHttp } from "./_engine_http.ts";
import { formatGap } from "./_token_compare.ts";
import type { RolloutReport } from "./metrics.ts";
import type { TrainerClient } from "./trainer_client.ts";

/** Options of {@linkcode VllmEngine.open}. */
export interface VllmEngineOptions {
  /** Base URLs of the vLLM servers (`http://host:8000`); requests go to the one with the fewest in flight. */
  readonly urls: readonly string[];
  /** Where adapters are written; every engine must read it at the same path. */
  readonly adapterDir: string;
  /** The training run's id and session: adapter names are `<run>.<role>@v<k>` (`.r<session>` after a resume). */
  readonly runId: string;
  readonly session: number;
  readonly roles: readonly string[];
  /** The trainer's policy id of a role. */
  readonly policyOf: (role: string) => string;
  readonly trainer: TrainerClient;
  /** The trainer's base model, for messages. */
  readonly baseModel?: string;
  /** Older versions kept loaded besides the current one. @default 0 */
  readonly maxStaleness?: number;
  /** The largest mean |Δ logprob| between engine and trainer on the probe that passes. @default 0.05 */
  readonly tolerance?: number;
  readonly onNote?: (note: string) => void;
  /** Per call to an engine (load, probe, health). @default 120000 */
  readonly timeoutMs?: number;
}

interface Endpoint {
  readonly http: EngineHttp;
  /** The engine's base model name (`/v1/models`). */
  base: string;
  /** Mean |Δ logprob| of its base model against the trainer's on the fixed probe: its numeric noise. */
  noise: number;
  /** False after it stopped answering mid-step: no requests go to it until the next `sync`. */
  up: boolean;
  inFlight: number;
  requests: number;
  recovering: Promise<boolean> | undefined;
}

/** One policy version as the engines serve it. */
interface Served {
  readonly role: string;
  readonly version: number;
  readonly name: string;
  readonly dir: string;
  /** The probe and the trainer's logprobs of it at this version. */
  readonly probe: Probe & { readonly trainer: readonly (number | null)[] };
  /** URLs where it is loaded and verified. */
  readonly loadedOn: Set<string>;
  inFlight: number;
  retired: boolean;
  /** The figures of the engine where it scored worst. */
  check?: ProbeFigures;
}

/**
 * The inference engine of a training run's rollouts (DESIGN.md decision 10): one or more vLLM servers
 * serving each trained role's LoRA adapter under a name never used before, `<run>.<role>@v<k>`.
 *
 * `open` checks every engine before any rollout: it answers, renders a conversation with the trainer's
 * chat template, and its base model gives the trainer's base logprobs on a fixed probe. `sync` (before
 * every rollout run) delivers each role's current version that is not loaded yet: the trainer's PEFT
 * directory is written under `adapterDir`, loaded on every engine with `/v1/load_lora_adapter`, and
 * **verified**: the engine's `prompt_logprobs` of a probe (a real completion of the role when one is
 * known) must match the trainer's `/v1/logprobs` at that version within `tolerance` (mean |Δ|), else
 * the step fails naming the policy, the version and the gap. Versions older than `maxStaleness + 1`
 * are unloaded once their in-flight requests end. An engine that lost its adapters (restarted) is
 * found by `sync` or by a 404 on a request, and gets them reloaded and re-verified; the request is
 * retried once. A problem found while requests are in flight aborts `signal` and is kept in `failure`.
 *
 * @example
 * ```ts ignore
 * const engine = await VllmEngine.open({ urls: ["http://gpu:8000"], adapterDir: "/shared/adapters",
 *   runId, session: 1, roles: ["solver"], policyOf: (r) => r, trainer });
 * await engine.sync({ solver: 0 });
 * const reply = await engine.complete("solver", model, request);
 * ```
 */
export class VllmEngine {
  readonly #endpoints: Endpoint[];
  readonly #o: Required<Omit<VllmEngineOptions, "onNote" | "baseModel">>;
  readonly #note: (note: string) => void;
  readonly #baseModel: string | undefined;
  readonly #served = new Map<string, Served>();
  readonly #current = new Map<string, Served>();
  readonly #probes = new Map<string, Probe>();
  readonly #clients = new Map<string, OpenAIModelClient>();
  /** Requests in flight each role's clients allow, as the run sized them (ensureConcurrency). */
  readonly #limits: Record<string, number> = {};
  readonly #templateChecks = new Map<string, Promise<Error | undefined>>();
  readonly #pending = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #failure: Error | undefined;
  #fixed: Promise<Probe> | undefined;
  #baseLogprobs: Promise<readonly (number | null)[]> | undefined;

  private constructor(options: VllmEngineOptions) {
    this.#o = {
      urls: options.urls,
      adapterDir: resolve(options.adapterDir),
      runId: options.runId,
      session: options.session,
      roles: options.roles,
      policyOf: options.policyOf,
      trainer: options.trainer,
      maxStaleness: options.maxStaleness ?? 0,
      tolerance: options.tolerance ?? 0.05,
      timeoutMs: options.timeoutMs ?? 120_000,
    };
    this.#note = options.onNote ?? (() => {});
    this.#baseModel = options.baseModel;
    this.#endpoints = [...new Set(options.urls)].map((url) => ({
      http: new EngineHttp(url, this.#o.timeoutMs),
      base: "",
      noise: 0,
      up: false,
      inFlight: 0,
      requests: 0,
      recovering: undefined,
    }));
  }

  /** Checks the adapter directory and every engine (answers, chat template, base model); throws naming the first problem. */
  static async open(options: VllmEngineOptions): Promise<VllmEngine> {
    if (options.urls.length === 0) {
      throw new RangeError(
        "Cannot serve rollouts from vLLM: train.rollout.urls lists no engine; add the base URL of each vllm serve",
      );
    }
    const engine = new VllmEngine(options);
    await checkAdapterDir(engine.#o.adapterDir);
    for (const ep of engine.#endpoints) await engine.#checkEndpoint(ep);
    return engine;
  }

  /** Aborted when a problem is found while requests are in flight (see `failure`). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The problem that stopped the engine, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The adapter name of a role's version. */
  nameOf(role: string, version: number): string {
    const again = this.#o.session > 1 ? `.r${this.#o.session}` : "";
    return `${this.#o.runId}.${role}@v${version}${again}`;
  }

  /** Uses this action (a role's real prompt and completion) as the probe of the role's next version. */
  setProbe(
    role: string,
    prompt: readonly number[],
    completion: readonly number[],
  ): void {
    const probe = actionProbe(prompt, completion);
    if (probe) this.#probes.set(role, probe);
  }

  /**
   * Makes every engine serve each role's version in `versions`, verified; finds engines that restarted
   * (their adapters are reloaded and re-verified) and unloads versions past `maxStaleness`.
   */
  async sync(versions: Readonly<Record<string, number>>): Promise<void> {
    if (this.#failure) throw this.#failure;
    for (const ep of this.#endpoints) {
      await this.#refresh(ep);
      ep.requests = 0;
    }
    for (const role of this.#o.roles) {
      const version = versions[role];
      if (version === undefined) continue;
      const now = this.#current.get(role);
      if (
        now?.version === version &&
        now.loadedOn.size === this.#endpoints.length
      ) continue;
      await this.#deliver(role, version);
    }
  }

  /** Sends a trained role's request to the least busy engine under the role's current adapter name. */
  async complete(
    role: string,
    model: Model,
    request: ModelRequest,
  ): Promise<ModelResponse> {
    for (let attempt = 0;; attempt++) {
      const served = this.#current.get(role);
      if (served === undefined) {
        throw new Error(
          `Cannot send role "${role}" to vLLM: no version of it is loaded; call sync() first`,
        );
      }
      const ep = this.#pick(served);
      if (ep === undefined) {
        return failed(
          `Cannot send role "${role}" to vLLM: no engine that serves ${served.name} answers`,
          "connection",
        );
      }
      ep.inFlight++;
      ep.requests++;
      served.inFlight++;
      let res: ModelResponse;
      try {
        res = await this.#client(ep, served, role, model).complete(request);
      } finally {
        ep.inFlight--;
        served.inFlight--;
        if (served.retired && served.inFlight === 0) {
          this.#track(this.#unload(served));
        }
      }
      if (!res.ok) {
        if (
          attempt === 0 && !request.signal?.aborted &&
          await this.#recover(ep, res.error)
        ) continue;
        return res;
      }
      return await this.#accept(role, ep, served, request, res);
    }
  }

  /** What served the rollouts since the last `sync`: each role's adapter and its probe figures, and requests per engine. */
  report(): RolloutReport {
    const roles: RolloutReport["roles"] = {};
    for (const [role, s] of this.#current) {
      if (!s.check) continue;
      roles[role] = {
        name: s.name,
        version: s.version,
        mean_abs_delta: s.check.gap.mean,
        max_abs_delta: s.check.gap.max,
        against: s.check.against,
        against_mean_abs_delta: s.check.separation.mean,
        discriminative: s.check.discriminative,
      };
    }
    const requests: Record<string, number> = {};
    for (const ep of this.#endpoints) requests[ep.http.url] = ep.requests;
    return { engine: "vllm", requests, roles };
  }

  /** Waits for unloads under way. The current versions stay loaded. */
  async close(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #checkEndpoint(ep: Endpoint): Promise<void> {
    const probe = await this.#fixedProbe();
    const checked = await checkEngine(ep.http, {
      trainer: this.#o.trainer,
      roles: this.#o.roles,
      tolerance: this.#o.tolerance,
      baseModel: this.#baseModel,
      probe,
      trainerBase: () =>
        this.#baseLogprobs ??= this.#o.trainer.logprobs({
          token_ids: probe.ids,
        }).then((r) => r.token_logprobs),
    });
    ep.base = checked.base;
    ep.noise = checked.noise;
    ep.up = true;
  }

  async #refresh(ep: Endpoint): Promise<void> {
    await ep.http.health();
    const names = new Set((await ep.http.models()).map((m) => m.id));
    const lost = [...this.#served.values()].filter((s) =>
      !s.retired && s.loadedOn.has(ep.http.url) && !names.has(s.name)
    );
    if (ep.up && lost.length === 0) return;
    if (lost.length > 0) {
      this.#note(
        `vLLM engine at ${ep.http.url} lost ${
          lost.map((s) => s.name).join(", ")
        } (it restarted): reloading and verifying them`,
      );
    }
    ep.up = false;
    await this.#checkEndpoint(ep);
    for (const s of lost) {
      s.loadedOn.delete(ep.http.url);
      const figures = await this.#loadOn(ep, s, undefined);
      this.#noteLoaded({ ...s, check: figures }, ep.http.url);
    }
  }

  async #deliver(role: string, version: number): Promise<void> {
    const name = this.nameOf(role, version);
    let served = this.#served.get(name);
    if (served === undefined) {
      const policy = this.#o.policyOf(role);
      const dir = await writeAdapter(
        await this.#o.trainer.adapterTar(policy, version),
        this.#o.adapterDir,
        name,
      );
      const probe = this.#probes.get(role) ?? await this.#fixedProbe();
      const trainer = (await this.#o.trainer.logprobs({
        policy_id: policy,
        version,
        token_ids: probe.ids,
      })).token_logprobs;
      served = {
        role,
        version,
        name,
        dir,
        probe: { ids: probe.ids, from: probe.from, trainer },
        loadedOn: new Set(),
        inFlight: 0,
        retired: false,
      };
      this.#served.set(name, served);
    }
    const previous = this.#current.get(role);
    let loaded = 0;
    for (const ep of this.#endpoints) {
      if (!served.loadedOn.has(ep.http.url)) {
        await this.#loadOn(ep, served, previous);
        loaded++;
      }
    }
    this.#current.set(role, served);
    if (loaded > 0) this.#noteLoaded(served, `${loaded} engine(s)`);
    const kept = [...this.#served.values()]
      .filter((s) => s.role === role && !s.retired)
      .sort((a, b) => b.version - a.version);
    for (const old of kept.slice(this.#o.maxStaleness + 1)) {
      old.retired = true;
      if (old.inFlight === 0) await this.#unload(old);
    }
  }

  /** Loads one version on one engine and checks its logprobs against the trainer's. */
  async #loadOn(
    ep: Endpoint,
    s: Served,
    previous: Served | undefined,
  ): Promise<ProbeFigures> {
    const url = ep.http.url;
    const figures = await loadAndVerify(
      ep.http,
      {
        ...s,
        policy: this.#o.policyOf(s.role),
        trainer: s.probe.trainer,
      },
      previous?.loadedOn.has(url)
        ? { name: previous.name, label: `v${previous.version}` }
        : { name: ep.base, label: "the base model" },
      {
        tolerance: this.#o.tolerance,
        adapterDir: this.#o.adapterDir,
        noise: ep.noise,
      },
    );
    s.loadedOn.add(url);
    if (s.check === undefined || figures.gap.mean > s.check.gap.mean) {
      s.check = figures;
    }
    return figures;
  }

  #noteLoaded(s: Served, where: string): void {
    const c = s.check!;
    this.#note(
      `vLLM: ${s.name} loaded on ${where} and verified: mean |Δ logprob| ${
        formatGap(c.gap.mean)
      }, max ${formatGap(c.gap.max)} against the trainer; ${c.against} is ${
        formatGap(c.separation.mean)
      } away${
        s.version > 0 && !c.discriminative
          ? ", within the engine's noise: this probe cannot tell the two apart, so serving either changes the logprobs by no more than that"
          : ""
      }`,
    );
  }

  async #unload(s: Served): Promise<void> {
    if (!this.#served.has(s.name)) return;
    this.#served.delete(s.name);
    for (const ep of this.#endpoints) {
      if (!s.loadedOn.has(ep.http.url)) continue;
      s.loadedOn.delete(ep.http.url);
      await ep.http.unload(s.name).catch((e) =>
        this.#note(
          `vLLM ${ep.http.url}: cannot unload ${s.name}: ${
            e instanceof Error ? e.message : String(e)
          }`,
        )
      );
    }
    for (const key of [...this.#clients.keys()]) {
      if (key.split("\n")[1] === s.name) this.#clients.delete(key);
    }
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }

  #track(p: Promise<void>): void {
    const done = p.finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #pick(s: Served): Endpoint | undefined {
    let best: Endpoint | undefined;
    for (const ep of this.#endpoints) {
      if (!ep.up || !s.loadedOn.has(ep.http.url)) continue;
      if (best === undefined || ep.inFlight < best.inFlight) best = ep;
    }
    return best;
  }

  #client(
    ep: Endpoint,
    s: Served,
    role: string,
    model: Model,
  ): OpenAIModelClient {
    // Train and eval requests of one role and version differ in sampling: each gets its own client.
    const key = `${ep.http.url}\n${s.name}\n${role}\n${
      JSON.stringify(model.sampling)
    }`;
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = new OpenAIModelClient(role, {
        ...model,
        model: s.name,
        base_url: `${ep.http.url}/v1`,
        sampling: {
          ...model.sampling,
          // The ids and logprobs that train come from the engine's own reply.
          extra_body: {
            ...model.sampling.extra_body,
            return_token_ids: true,
            logprobs: true,
          },
        },
      });
      client.ensureConcurrency(this.#limits);
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Lets each role's clients keep `limits[role]` requests in flight, on every endpoint (least busy wins). */
  ensureConcurrency(limits: Readonly<Record<string, number>>): void {
    Object.assign(this.#limits, limits);
    for (const client of this.#clients.values()) {
      client.ensureConcurrency(this.#limits);
    }
  }

  /** After a failed request: if the engine lost its adapters or stopped answering, recovers; true to retry. */
  async #recover(
    ep: Endpoint,
    error: Extract<ModelResponse, { ok: false }>["error"],
  ): Promise<boolean> {
    const lost = error.status === 404;
    const down = error.kind === "connection" || error.kind === "timeout" ||
      (error.kind === "exhausted" &&
        (error.status === undefined || error.status >= 500));
    if (!lost && !down) return false;
    ep.recovering ??= this.#refresh(ep).then(
      () => true,
      (e) => {
        if (e instanceof EngineError && e.code === "unreachable") {
          ep.up = false;
          this.#note(
            `vLLM engine at ${ep.http.url} does not answer: its requests go to the other engines until the next step`,
          );
          return this.#endpoints.some((x) => x.up);
        }
        this.#fail(e);
        return false;
      },
    ).finally(() => (ep.recovering = undefined));
    return await ep.recovering;
  }

  /** Checks a reply carries what training needs, and (once per role) the engine's chat template. */
  async #accept(
    role: string,
    ep: Endpoint,
    s: Served,
    request: ModelRequest,
    res: Extract<ModelResponse, { ok: true }>,
  ): Promise<ModelResponse> {
    const prompt = res.prompt_token_ids;
    const completion = res.completion_token_ids;
    if (
      !prompt?.length || !completion?.length ||
      res.completion_logprobs?.length !== completion.length
    ) {
      const e = new Error(
        `Cannot train role "${role}" on replies of vLLM engine at ${ep.http.url}: a reply lacks prompt_token_ids, token_ids or a logprob per token; use a vLLM whose chat completions support return_token_ids (mappa sends return_token_ids: true, logprobs: true)`,
      );
      this.#fail(e);
      return failed(e.message, "malformed");
    }
    // Once per role and engine: each engine renders with its own template.
    const key = `${role}\n${ep.http.url}`;
    let check = this.#templateChecks.get(key);
    if (check === undefined) {
      check = this.#checkTemplate(role, ep, request, prompt);
      this.#templateChecks.set(key, check);
    }
    const problem = await check;
    if (problem) return failed(problem.message, "malformed");
    return { ...res, policy_version: s.version };
  }

  async #checkTemplate(
    role: string,
    ep: Endpoint,
    request: ModelRequest,
    engineIds: readonly number[],
  ): Promise<Error | undefined> {
    const problem = await checkRoleTemplate(
      this.#o.trainer,
      role,
      ep.http.url,
      request,
      engineIds,
    ).catch((e) => e instanceof Error ? e : new Error(String(e)));
    if (problem) this.#fail(problem);
    return problem;
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#abort.abort(e);
  }

  #fixedProbe(): Promise<Probe> {
    return this.#fixed ??= fixedProbe(this.#o.trainer);
  }
}

function failed(
  message: string,
  kind: "connection" | "malformed",
): ModelResponse {
  return {
    ok: false,
    error: { kind, message },
    attempts: 0,
    latency_ms: 0,
    provider: "openai",
  };
}
