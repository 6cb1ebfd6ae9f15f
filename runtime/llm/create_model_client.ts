import { isAbsolute, join } from "node:path";
import type { Model } from "../../dsl/mod.ts";
import type { ModelClient } from "../ports.ts";
import { loadModelScript, type ModelScript } from "./model_script.ts";
import {
  type ModelRoute,
  ModelRouter,
  type UnconfiguredModel,
} from "./model_router.ts";
import { OpenAIModelClient, type RetryOptions } from "./openai_client.ts";
import { ScriptedModelClient } from "./scripted_client.ts";

/** Options of {@linkcode createModelClient}. */
export interface CreateModelClientOptions {
  /** Reads the variables named by `api_key_env`. @default Deno.env.get */
  readonly env?: (name: string) => string | undefined;
  /** Scripts by model id, used instead of reading the model's `script` file. @default {} */
  readonly scripts?: Readonly<Record<string, ModelScript>>;
  /** Directory that `script` paths are relative to: the spec file's directory. @default Deno.cwd() */
  readonly baseDir?: string;
  /** Answers for models without an endpoint (the demo policy); without it they are refused. */
  readonly fallback?: ModelClient;
  /** Backoff of every OpenAI-compatible client. @default {} */
  readonly retry?: RetryOptions;
}

/**
 * Builds one {@linkcode ModelRouter} for the models of a compiled spec: an {@linkcode OpenAIModelClient}
 * for each `openai` model with a non-empty `base_url`, a {@linkcode ScriptedModelClient} for each
 * `scripted` model (script from `options.scripts`, else read from its `script` file), and for the
 * rest an entry in `unconfigured` (answered by `options.fallback` when given). Throws
 * `ModelScriptError` for a script file that cannot be read or is invalid.
 *
 * @example
 * ```ts ignore
 * const models = await createModelClient(graph.models, { baseDir: dirname(graph.spec_file), fallback: demo });
 * for (const u of models.unconfigured) console.error(`${u.message}: using the demo policy`);
 * const reply = await models.complete({ model: "actor", role: "solver", episode: "e1", turn: 0, messages });
 * ```
 */
export async function createModelClient(
  models: Readonly<Record<string, Model>>,
  options: CreateModelClientOptions = {},
): Promise<ModelRouter> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const clients = new Map<string, ModelClient>();
  const routes: Record<string, ModelRoute> = {};
  const unconfigured: UnconfiguredModel[] = [];
  for (const [id, model] of Object.entries(models)) {
    if (model.provider === "scripted") {
      const inline = options.scripts?.[id];
      if (inline !== undefined || model.script !== undefined) {
        const file = inline !== undefined
          ? "inline"
          : resolvePath(options.baseDir, model.script!);
        const script = inline ?? await loadModelScript(file);
        clients.set(
          id,
          new ScriptedModelClient(script, { modelName: model.model, file }),
        );
        routes[id] = {
          provider: "scripted",
          model_name: model.model,
          script: file,
        };
        continue;
      }
      unconfigured.push({
        model: id,
        reason: "no_script",
        message:
          `Cannot call model "${id}": it is scripted but names no script file`,
        hint: `set models.${id}.script to a file of replies per role`,
      });
    } else if ((model.base_url ?? "") !== "") {
      const client = new OpenAIModelClient(id, model, {
        env,
        ...(options.retry !== undefined ? { retry: options.retry } : {}),
      });
      clients.set(id, client);
      routes[id] = {
        provider: "openai",
        model_name: model.model,
        endpoint: new URL(client.baseURL).origin,
        api_key: model.api_key_env === undefined
          ? "not_named"
          : client.hasApiKey
          ? "set"
          : "unset",
      };
      continue;
    } else {
      unconfigured.push({
        model: id,
        reason: "no_base_url",
        message:
          `Cannot call model "${id}": no endpoint is configured (base_url is empty)`,
        hint: `set models.${id}.base_url in the spec, or the variable it reads`,
      });
    }
    const reason = unconfigured.at(-1)!.reason;
    if (options.fallback !== undefined) clients.set(id, options.fallback);
    routes[id] = {
      provider: "unconfigured",
      model_name: model.model,
      reason,
      fallback: options.fallback !== undefined,
    };
  }
  return new ModelRouter({ clients, routes, unconfigured });
}

function resolvePath(baseDir: string | undefined, path: string): string {
  if (isAbsolute(path) || baseDir === undefined) return path;
  return join(baseDir, path);
}
