// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { dirname } from "node:path";
import {
  compileFile,
  type ExecutionGraph,
  type GraphRubric,
  loadRubricFile,
  renderDiagnostics,
  RubricFileError,
} from "../dsl/mod.ts";
import {
  BwrapSandbox,
  createModelClient,
  type ModelRouter,
  readRunManifest,
  RunStoreError,
  SandboxError,
} from "../runtime/mod.ts";
import { rescoreRun } from "../coaches/mod.ts";
import { specArg } from "./_args.ts";
import { interruptible } from "./_interrupt.ts";
import { CMD, type Command, type CommandValues } from "./command.ts";
import { EXIT, UsageError } from "./exit_codes.ts";

const OPTIONS = {
  rubric: { type: "string" },
  role: { type: "string", multiple: true },
  sample: { type: "string" },
  seed: { type: "string" },
  "judge-url": { type: "string" },
  "judge-model": { type: "string" },
} as const;

/** `rescore <run> --rubric FILE`: scores a saved run's actions with a rubric (a new score layer). */
export const RESCORE: Command<typeof OPTIONS> = {
  name: "rescore",
  synopsis: [
    "<run> --rubric FILE [--role R]... [--sample N] [--seed S] [--judge-url URL] [--judge-model NAME]",
  ],
  description: [
    "score a saved run's actions with a rubric (a new score layer)",
  ],
  options: OPTIONS,
  run: rescore,
};

/** The compiled graph a run recorded in its manifest (read by runtime's one reader). */
async function readRunGraph(dir: string): Promise<ExecutionGraph> {
  let manifest;
  try {
    manifest = await readRunManifest(dir, "rescore");
  } catch (e) {
    if (
      e instanceof RunStoreError && e.cause instanceof Deno.errors.NotFound
    ) {
      throw new UsageError(
        `Cannot read run "${dir}": it has no manifest.json; pass a run directory that \`${CMD} run\` wrote, such as runs/<run_id>`,
      );
    }
    throw e;
  }
  if (!manifest.graph) {
    throw new UsageError(
      `Cannot read run "${dir}": its manifest.json holds no graph`,
    );
  }
  return manifest.graph;
}

/** The serving fields (`base_url`, `api_key_env`) of model `id` in the spec as it compiles now, if it still does. */
function servedNow(
  specFile: string,
  id: string,
): { base_url?: string; api_key_env?: string } | undefined {
  let compiled;
  try {
    compiled = compileFile(specFile);
  } catch {
    return undefined;
  }
  const m = compiled.ok ? compiled.graph.models[id] : undefined;
  if (!m || (m.base_url ?? "") === "") return undefined;
  return {
    base_url: m.base_url!,
    ...(m.api_key_env !== undefined ? { api_key_env: m.api_key_env } : {}),
  };
}

/**
 * The judge client for a rubric with a template: model `id` of the run's spec, served where the spec
 * says now or at --judge-url; a message (exit 2) when it has no endpoint or does not answer.
 */
async function judgeClient(
  graph: ExecutionGraph,
  rubric: GraphRubric,
  id: string,
  judge: { url?: string | undefined; model?: string | undefined },
): Promise<ModelRouter | string> {
  const models = { ...graph.models };
  const base = models[id] ??
    {
      provider: "openai" as const,
      model: "",
      sampling: {},
      max_concurrency: 4,
      timeout_s: 600,
      max_retries: 4,
    };
  // Where the judge is served now: the spec as it reads today (its ${env.…} interpolated again, e.g.
  // MAPPA_COACH_URL), not the URL recorded when the run was made.
  const now = judge.url === undefined
    ? servedNow(graph.spec_file, id)
    : undefined;
  models[id] = {
    ...base,
    ...now,
    ...(judge.url !== undefined ? { base_url: judge.url } : {}),
    ...(judge.model !== undefined ? { model: judge.model } : {}),
  };
  if ((models[id]!.base_url ?? "") === "" || models[id]!.model === "") {
    return `Cannot rescore with rubric "${rubric.name}": it needs a judge and models.${id} has no endpoint\n  = hint: pass --judge-url http://host:port/v1 (and --judge-model NAME), or use a rubric with default_score only`;
  }
  const client = await createModelClient(models, {
    baseDir: dirname(graph.spec_file),
  });
  // A judge that cannot be reached would only write unscored verdicts: stop before the first.
  const check = await client.preflight([id]);
  for (const note of check.notes) console.error(note);
  if (check.errors.length > 0) {
    return `${
      check.errors.join("\n  ")
    }\n  = hint: pass --judge-url http://host:port/v1 (and --judge-model NAME) to rescore with another judge`;
  }
  return client;
}

async function rescore(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const dir = specArg(positionals, "rescore");
  if (values.rubric === undefined) {
    throw new UsageError(
      "Cannot rescore without a rubric: pass --rubric <file.yaml>",
    );
  }
  const graph = await readRunGraph(dir);
  let rubric;
  try {
    rubric = await loadRubricFile(values.rubric);
  } catch (e) {
    if (!(e instanceof RubricFileError)) throw e;
    console.error(renderDiagnostics(e.diagnostics, e.sources));
    return EXIT.failed;
  }
  const modelId = graph.coach?.model;
  let client;
  if (rubric.template !== undefined) {
    client = await judgeClient(graph, rubric, modelId ?? "judge", {
      url: values["judge-url"],
      model: values["judge-model"],
    });
    if (typeof client === "string") {
      console.error(`mappa: ${client}`);
      return EXIT.usage;
    }
  }
  const sample = values.sample === undefined
    ? undefined
    : Number(values.sample);
  if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) {
    throw new UsageError(
      `Cannot use --sample "${values.sample}": it must be a whole number >= 1`,
    );
  }
  // Without --role, a rubric scores the roles the run's spec gives a rubric of that name (all, if none).
  const assigned = graph.roles.filter((r) =>
    r.rubric !== undefined &&
    graph.coach?.rubrics[r.rubric]?.name === rubric.name
  )
    .map((r) => r.id);
  const roles = values.role ?? (assigned.length > 0 ? assigned : undefined);
  if (values.role === undefined && roles) {
    console.error(
      `scoring roles ${
        roles.join(", ")
      } (as the spec assigns rubric "${rubric.name}")`,
    );
  }
  // Programs of `when: command` checks run in the jail, as in the run; no jail, no rescore.
  let sandbox;
  if (rubric.checks.some((c) => c.when === "command")) {
    try {
      sandbox = await BwrapSandbox.create();
    } catch (e) {
      if (!(e instanceof SandboxError)) throw e;
      console.error(
        `mappa: Cannot rescore with rubric "${rubric.name}": its command checks need the sandbox: ${e.message}`,
      );
      return EXIT.usage;
    }
  }
  let done = 0;
  using stop = interruptible(
    "verdicts already written stay; run the same rescore again to finish",
  );
  const result = await rescoreRun(dir, {
    signal: stop,
    rubric,
    ...(sandbox ? { sandbox } : {}),
    ...(roles ? { roles } : {}),
    ...(sample !== undefined ? { sample } : {}),
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(client ? { client, model: modelId ?? "judge" } : {}),
    onVerdict: () => {
      if (++done % 100 === 0) console.error(`scored ${done} actions`);
    },
  });
  console.log(
    `${result.layer}: ${result.written} verdict${
      result.written === 1 ? "" : "s"
    } written (${result.cached} from cache, ${result.unscored} unscored, ${result.skipped} already in the layer); judge calls ${result.judge_calls}, cost ${
      result.cost_usd === null || result.cost_usd === undefined
        ? "unknown (no price)"
        : `$${result.cost_usd.toFixed(4)}`
    }`,
  );
  if (result.unscored > 0 || result.interrupted) {
    console.error(
      `mappa: ${
        result.interrupted
          ? "interrupted"
          : `${result.unscored} action${
            result.unscored === 1 ? "" : "s"
          } left unscored (the judge failed, its verdict could not be read, or a command check could not decide; see the layer's reasoning)`
      }; run the same rescore again to judge ${
        result.interrupted ? "the rest" : "those whose judge call failed"
      }`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}
