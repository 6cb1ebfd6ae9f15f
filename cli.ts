// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { prepareDeps } from "./_cli_deps.ts";
import { bundleSpecArg, compileSpecArg, SpecArgError } from "./_cli_spec.ts";
import {
  compileFile,
  type CompileResult,
  type Diagnostic,
  type ExecutionGraph,
  renderDiagnostics,
  schemaFiles,
  toDot,
  toMermaid,
} from "./dsl/mod.ts";
import {
  BwrapSandbox,
  createModelClient,
  DatasetError,
  formatProgress,
  formatSummary,
  modelCapMessage,
  PreflightError,
  runPipeline,
  RunStoreError,
  type RunSummary,
  SandboxError,
} from "./runtime/mod.ts";
import {
  loadRubricFile,
  rescoreRun,
  RubricFileError,
  ScoreLayerError,
} from "./coaches/mod.ts";
import {
  formatMetricsLine,
  MetricsError,
  TrainerError,
  trainPipeline,
  type TrainProgress,
  TrainRunError,
} from "./training/mod.ts";
// report/ (plots: Observable Plot with a DOM) is imported where a command needs it, so check, graph,
// run and train do not load it at start.
type Report = typeof import("./report/mod.ts");
function loadReport(): Promise<Report> {
  return import("./report/mod.ts");
}

/**
 * How the user runs mappa, for usage and hints: `deno task` in the repository (deno task sets
 * INIT_CWD), else the installed `mappa` command.
 */
const CMD = Deno.env.get("INIT_CWD") !== undefined ? "deno task" : "mappa";

const USAGE = `mappa — declare, run, coach and train multi-agent LLM pipelines

Usage:
  deno task check <spec>... [--format text|json]  validate specs; exit 0 ok, 1 invalid, 2 usage
  deno task graph <spec> [--format mermaid|dot|json]
                                                  print the execution graph
  deno task schema [--out DIR] [--check]          write (or check) schema/*.schema.json
  deno task rescore <run> --rubric FILE [--role R]... [--sample N] [--seed S] [--judge-url URL] [--judge-model NAME]
                                                  score a saved run's actions with a rubric (a new score layer)
  deno task compare <run> <layerA> <layerB> [--threshold T] [--format text|json]
                                                  compare two score layers of a run
  deno task report <run> [--bias] [--against RUN] write runs/<id>/report.html (a training run: its curves,
                                                  --against another training run to overlay)
  deno task train <spec> [--trainer local|URL] [--steps N] [--resume RUN] [--outcome-weight W] [--seed S]
                         [--coach-flip P] [--coach-bias CATEGORY:POINTS] (study knobs: corrupt the coach's verdicts)
                         [--out DIR] [--concurrency K] [--sandbox-uid-base N] [--unsafe-no-sandbox]
                                                  train the spec's trained roles with REINFORCE++ on per-action rewards
  deno task run <spec> [--split S] [--limit N] [--concurrency K] [--sandbox-concurrency K]
                       [--resume RUN] [--out DIR] [--keep-workspaces] [--json] [--no-coach]
                       [--sandbox-uid-base N] [--unsafe-no-sandbox]
                                                  run a pipeline over a dataset split

  deno task bundle <spec> [-o FILE] [--no-data]   write the spec and every file it reads as one file

A spec is a YAML/JSON file, or a TS module whose default export is definePipeline({...}); check, graph,
run, train and bundle also take a bundle or an https:// URL of one (or of a YAML spec), pinned with
#sha256=<hex>, and --allow-read PATH (repeatable) to let a local spec read PATH outside its folder.`;

/** The usage text as the user runs mappa: `deno task <command>`, or `mappa <command>` with columns kept. */
function usage(): string {
  if (CMD === "deno task") return USAGE;
  return USAGE.replace(
    /^ {2}deno task (\S+(?: \S+)*?)( {2,}|$)/gm,
    (_m, cmd, gap) => `  mappa ${cmd}${gap === "" ? "" : `${gap}    `}`,
  );
}

const SCHEMA_DIR = "schema";

/** Exit codes: 0 ok, 1 spec invalid, 2 usage or run failed, 3 internal error. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The `--allow-read` option every command taking a spec accepts (repeatable). */
const ALLOW_READ = {
  "allow-read": { type: "string", multiple: true },
} as const;

async function compileAny(
  path: string,
  allowRead: readonly string[] = [],
): Promise<CompileResult> {
  try {
    return await compileSpecArg(path, {
      allowRead,
      warn: (line) => console.error(line),
    });
  } catch (e) {
    if (e instanceof SpecArgError) throw new UsageError(e.message);
    throw e;
  }
}

function jsonDiagnostics(ds: readonly Diagnostic[]): unknown[] {
  return ds.map((d) => ({
    code: d.code,
    severity: d.severity,
    file: d.file,
    line: d.position?.line ?? null,
    col: d.position?.column ?? null,
    end_line: d.end?.line ?? null,
    end_col: d.end?.column ?? null,
    path: d.path,
    message: d.message,
    hint: d.hint ?? null,
    related: (d.related ?? []).map((r) => ({
      file: r.file,
      line: r.position?.line ?? null,
      col: r.position?.column ?? null,
      message: r.message,
    })),
  }));
}

function specArg(positionals: string[], command: string): string {
  const spec = positionals[0];
  if (spec === undefined) {
    throw new UsageError(
      `Cannot run "${command}" without a spec: usage: ${CMD} ${command} <spec>`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `Cannot run "${command}" with more than one spec: got ${
        positionals.join(", ")
      }`,
    );
  }
  return spec;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: "string", default: "text" }, ...ALLOW_READ },
  });
  const format = values.format;
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `Cannot use --format "${format}": expected text or json`,
    );
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `Cannot run "check" without a spec: usage: ${CMD} check <spec>...`,
    );
  }
  const reports: unknown[] = [];
  let failed = 0;
  for (const spec of positionals) {
    const result = await compileAny(spec, values["allow-read"]);
    if (!result.ok) failed++;
    const ds = result.ok ? result.warnings : result.diagnostics;
    if (format === "json") {
      reports.push({
        spec,
        ok: result.ok,
        spec_hash: result.ok ? result.graph.spec_hash : null,
        diagnostics: jsonDiagnostics(ds),
      });
      continue;
    }
    if (ds.length > 0) console.error(renderDiagnostics(ds, result.sources));
    if (result.ok) {
      const g = result.graph;
      console.log(
        `${spec}: ok: ${g.roles.length} role${
          g.roles.length === 1 ? "" : "s"
        }, ${g.stages.length} stage${
          g.stages.length === 1 ? "" : "s"
        }, spec_hash ${g.spec_hash.slice(0, 12)}`,
      );
    }
  }
  // One spec prints one object; several print an array of them, in argument order.
  if (format === "json") {
    console.log(
      JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2),
    );
  }
  return failed > 0 ? 1 : 0;
}

async function graph(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: "string", default: "mermaid" }, ...ALLOW_READ },
  });
  const format = values.format;
  if (format !== "mermaid" && format !== "dot" && format !== "json") {
    throw new UsageError(
      `Cannot use --format "${format}": expected mermaid, dot or json`,
    );
  }
  const compiled = await compileReported(
    specArg(positionals, "graph"),
    values["allow-read"],
  );
  if (compiled === null) return 1;
  const result = { graph: compiled };
  const text = format === "mermaid"
    ? toMermaid(result.graph)
    : format === "dot"
    ? toDot(result.graph)
    : JSON.stringify(result.graph, null, 2) + "\n";
  await Deno.stdout.write(new TextEncoder().encode(text));
  return 0;
}

async function schema(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: SCHEMA_DIR },
      check: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Cannot use arguments ${
        positionals.join(", ")
      } with schema: it takes only --out and --check`,
    );
  }
  let stale = 0;
  for (const [name, text] of Object.entries(schemaFiles())) {
    const file = `${values.out}/${name}`;
    if (values.check) {
      let current: string | undefined;
      try {
        current = await Deno.readTextFile(file);
      } catch {
        current = undefined;
      }
      if (current !== text) {
        console.error(`Cannot use ${file}: it is stale; run ${CMD} schema`);
        stale++;
      }
      continue;
    }
    await Deno.mkdir(values.out, { recursive: true });
    await Deno.writeTextFile(file, text);
    console.log(`wrote ${file}`);
  }
  if (values.check && stale === 0) console.log(`${values.out}/ is up to date`);
  return stale > 0 ? 1 : 0;
}

/** Compiles a spec, printing its warnings; null (diagnostics printed) when it is invalid. */
async function compileReported(
  spec: string,
  allowRead?: readonly string[],
): Promise<ExecutionGraph | null> {
  const result = await compileAny(spec, allowRead);
  if (!result.ok) {
    console.error(renderDiagnostics(result.diagnostics, result.sources));
    return null;
  }
  if (result.warnings.length > 0) {
    console.error(renderDiagnostics(result.warnings, result.sources));
  }
  return result.graph;
}

/** A `--name` value that must be a whole number >= 1, or undefined when absent. */
function wholeNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `Cannot use --${name} "${v}": it must be a whole number >= 1`,
    );
  }
  return n;
}

/**
 * Ctrl-C (or SIGTERM) aborts the returned signal once, saying `what`; a second one quits at once.
 * Dispose of the result to remove the listeners.
 */
function interruptible(what: string): AbortSignal & Disposable {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) Deno.exit(130);
    console.error(`\nmappa: stopping: ${what} (Ctrl-C again to quit now)`);
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onInterrupt);
  return Object.assign(controller.signal, {
    [Symbol.dispose]() {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      Deno.removeSignalListener("SIGTERM", onInterrupt);
    },
  });
}

/** What stderr says when the grader could not grade some episodes: which, why, and the fix. */
function ungradedLines(summary: RunSummary, spec: string): string[] {
  if (summary.ungraded === 0) return [];
  const shown = summary.ungraded_episodes.slice(0, 10);
  return [
    `mappa: ${summary.ungraded} episode${
      summary.ungraded === 1 ? "" : "s"
    } could not be graded for an infrastructure reason (not the agents' failure; their outcome rewards are masked):`,
    ...shown.map((e) =>
      `  ${e.episode_id}: ${e.grader} ${e.kind}: ${e.reason}`
    ),
    ...(summary.ungraded > shown.length
      ? [`  and ${summary.ungraded - shown.length} more (see events.jsonl)`]
      : []),
    `mappa: fix what the reason names (a missing or unreadable answers file: build the task set and check the spec's outcome.params; a timeout: a smaller task or a faster grader), then grade them again without running the agents: ${CMD} run ${spec} --resume ${summary.run_dir}`,
  ];
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      split: { type: "string" },
      limit: { type: "string" },
      concurrency: { type: "string" },
      "sandbox-concurrency": { type: "string" },
      resume: { type: "string" },
      out: { type: "string", default: "runs" },
      "keep-workspaces": { type: "boolean", default: false },
      "unsafe-no-sandbox": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "no-coach": { type: "boolean", default: false },
      ...ALLOW_READ,
      "sandbox-uid-base": { type: "string" },
    },
  });
  const spec = specArg(positionals, "run");
  const graph = await compileReported(spec, values["allow-read"]);
  if (graph === null) return 1;
  const prepared = await prepareDeps(graph, {
    command: "run",
    spec,
    noCoach: values["no-coach"]!,
    unsafeNoSandbox: values["unsafe-no-sandbox"]!,
    ...(values["sandbox-uid-base"] !== undefined
      ? {
        uidBase: wholeNumber("sandbox-uid-base", values["sandbox-uid-base"])!,
      }
      : {}),
  });
  if (!prepared.ok) {
    console.error(`mappa: ${prepared.message}`);
    return prepared.code;
  }
  const { model, sandbox, policy, unconfigured, roleModels, coachNote } =
    prepared.deps;
  const coach = prepared.deps.coach?.();
  if (prepared.deps.warning) console.error(`mappa: ${prepared.deps.warning}`);
  // The first line says who answers: a model, or the scripted demo policy (never passed off as a model).
  (values.json ? console.error : console.log)(
    policy === "demo"
      ? `mappa run ${spec}: DEMO POLICY: scripted replies from ${
        graph.demo ?? "the scripted models"
      } answer ${
        unconfigured.length > 0
          ? `models ${unconfigured.join(", ")} (no endpoint configured)`
          : "the scripted models"
      }; no model is called for them`
      : `mappa run ${spec}: models ${
        roleModels.map((m) => `${m}=${graph.models[m]!.model}`).join(", ")
      }`,
  );
  using stop = interruptible(
    "running episodes are abandoned and will run again on --resume",
  );
  let runId = "";
  try {
    const limit = wholeNumber("limit", values.limit);
    const concurrency = wholeNumber("concurrency", values.concurrency);
    const sandboxConcurrency = wholeNumber(
      "sandbox-concurrency",
      values["sandbox-concurrency"],
    );
    if (coachNote) console.error(coachNote);
    const judge = prepared.deps.outcomeJudge;
    if (judge) console.error(judge.note);
    const summary = await runPipeline(graph, {
      model,
      sandbox,
      ...(judge ? { graders: judge.graders } : {}),
    }, {
      policy,
      ...(coach ? { coach } : {}),
      outDir: values.out!,
      keepWorkspaces: values["keep-workspaces"]!,
      signal: stop,
      environment: {
        mappa: "0.1.0",
        deno: Deno.version.deno,
        sandbox: sandbox.backend,
        sandbox_guarantees: sandbox instanceof BwrapSandbox
          ? sandbox.guarantees
          : { isolation: "none: --unsafe-no-sandbox" },
        models: model.routes,
        ...(judge ? { outcome_judge: judge.note } : {}),
      },
      ...(values.split !== undefined ? { split: values.split } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(sandboxConcurrency !== undefined ? { sandboxConcurrency } : {}),
      ...(values.resume !== undefined ? { resume: values.resume } : {}),
      onNote: (note) => console.error(note),
      onStart: (info) => {
        runId = info.runId;
        judge?.logTo(join(info.runDir, "outcome_judge.jsonl"));
        console.error(
          `run ${info.runId}: ${info.tasks} task${info.tasks === 1 ? "" : "s"}${
            info.skipped > 0 ? `, ${info.skipped} already done` : ""
          }${
            info.excluded > 0
              ? `, ${info.excluded} overlapping eval tasks excluded`
              : ""
          } -> ${info.runDir}`,
        );
      },
      onEvent: (event, summary) => {
        if (event.kind === "run_started") {
          for (const cap of event.capped_models ?? []) {
            console.error(`mappa: ${modelCapMessage(cap)}`);
          }
        }
        if (values.json) console.log(JSON.stringify(event));
        else if (event.kind === "episode_finished") {
          if (event.status === "failed") {
            console.error(`episode ${event.episode_id} failed: ${event.error}`);
          }
          if (event.outcome?.ungraded !== undefined) {
            console.error(
              `episode ${event.episode_id} not graded (${event.outcome.ungraded}): ${event.outcome.reason}`,
            );
          }
          console.error(formatProgress(summary));
        }
      },
    });
    await judge?.flush();
    if (!values.json) {
      for (const line of formatSummary(summary)) console.log(line);
      console.log(`  report: ${CMD} report ${summary.run_dir}`);
    }
    if (summary.episodes_failed > 0) {
      console.error(
        `mappa: ${summary.episodes_failed} episode${
          summary.episodes_failed === 1 ? "" : "s"
        } failed (see above); --resume ${summary.run_dir} runs them again`,
      );
    }
    if (summary.episodes_model_failed > 0) {
      const n = summary.episodes_model_failed;
      console.error(
        `mappa: ${n} episode${
          n === 1 ? "" : "s"
        } had model calls that failed for an infrastructure reason (server down, key refused, model not served; those actions are not judged); fix the cause, then run ${
          n === 1 ? "it" : "them"
        } again: ${CMD} run ${spec} --resume ${summary.run_dir}`,
      );
    }
    for (const line of ungradedLines(summary, spec)) console.error(line);
    if (summary.status === "interrupted") {
      console.error(
        `mappa: interrupted; finish it with: ${CMD} run ${spec} --resume ${summary.run_dir}`,
      );
      return 130;
    }
    return summary.episodes_failed > 0 || summary.ungraded > 0 ||
        summary.episodes_model_failed > 0
      ? 1
      : 0;
  } catch (e) {
    if (
      e instanceof DatasetError || e instanceof RunStoreError ||
      e instanceof RangeError || e instanceof PreflightError ||
      e instanceof SandboxError || e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.AlreadyExists ||
      e instanceof Deno.errors.NotADirectory ||
      (e instanceof Error &&
        /No space left|Read-only file system|os error 28|os error 30/.test(
          e.message,
        ))
    ) {
      console.error(
        `mappa: ${e.message}${
          runId ? `\n  = note: the run is in ${values.out}/${runId}` : ""
        }`,
      );
      return 2;
    }
    throw e;
  }
}

/** `--coach-flip P` and `--coach-bias CATEGORY:POINTS`: a study's corruption of the coach's verdicts. */
function coachNoiseArgs(
  flip: string | undefined,
  bias: string | undefined,
): { flip: number; bias?: { category: string; points: number } } | undefined {
  if (flip === undefined && bias === undefined) return undefined;
  const p = flip === undefined ? 0 : Number(flip);
  if (!(p >= 0 && p <= 1)) {
    throw new UsageError(
      `Cannot use --coach-flip "${flip}": it must be a probability from 0 to 1`,
    );
  }
  if (bias === undefined) return { flip: p };
  const at = bias.lastIndexOf(":");
  const points = Number(bias.slice(at + 1));
  if (at <= 0 || !Number.isFinite(points)) {
    throw new UsageError(
      `Cannot use --coach-bias "${bias}": write CATEGORY:POINTS, e.g. --coach-bias tools:2`,
    );
  }
  return { flip: p, bias: { category: bias.slice(0, at), points } };
}

async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      trainer: { type: "string" },
      steps: { type: "string" },
      resume: { type: "string" },
      "outcome-weight": { type: "string" },
      seed: { type: "string" },
      "coach-flip": { type: "string" },
      "coach-bias": { type: "string" },
      out: { type: "string", default: "runs" },
      concurrency: { type: "string" },
      "sandbox-uid-base": { type: "string" },
      "unsafe-no-sandbox": { type: "boolean", default: false },
      ...ALLOW_READ,
    },
  });
  const spec = specArg(positionals, "train");
  const graph = await compileReported(spec, values["allow-read"]);
  if (graph === null) return 1;
  if (graph.train === undefined) {
    throw new UsageError(
      `Cannot train ${spec}: it has no train section; add train: { roles: [...], trainer: { url: local } }`,
    );
  }
  let outcomeWeight: number | undefined;
  if (values["outcome-weight"] !== undefined) {
    outcomeWeight = Number(values["outcome-weight"]);
    if (!(outcomeWeight >= 0 && outcomeWeight <= 1)) {
      throw new UsageError(
        `Cannot use --outcome-weight "${
          values["outcome-weight"]
        }": it must be a number from 0 (per-action coach rewards) to 1 (the shared outcome reward only)`,
      );
    }
  }
  const steps = wholeNumber("steps", values.steps);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new UsageError(
      `Cannot use --seed "${values.seed}": it must be a whole number`,
    );
  }
  const coachNoise = coachNoiseArgs(values["coach-flip"], values["coach-bias"]);
  const concurrency = wholeNumber("concurrency", values.concurrency);
  const uidBase = wholeNumber("sandbox-uid-base", values["sandbox-uid-base"]);
  const prepared = await prepareDeps(graph, {
    command: "train",
    spec,
    noCoach: false,
    forceCoach: true,
    unsafeNoSandbox: values["unsafe-no-sandbox"]!,
    servedRoles: graph.train.roles,
    ...(uidBase !== undefined ? { uidBase } : {}),
  });
  if (!prepared.ok) {
    console.error(`mappa: ${prepared.message}`);
    return prepared.code;
  }
  const deps = prepared.deps;
  if (deps.warning) console.error(`mappa: ${deps.warning}`);
  const trainer = values.trainer ?? graph.train.trainer.url;
  const engine = graph.train.rollout.engine === "vllm"
    ? `served by vLLM at ${graph.train.rollout.urls.join(", ")}, trained by`
    : "served by";
  console.log(
    `mappa train ${spec}: roles ${graph.train.roles.join(", ")} ${engine} the ${
      trainer === "local" ? `local ${graph.train.trainer.backend}` : ""
    } trainer${trainer === "local" ? "" : ` at ${trainer}`}${
      deps.policy === "demo"
        ? `; DEMO POLICY: scripted replies answer models ${
          deps.unconfigured.join(", ")
        } (no endpoint configured)`
        : ""
    }`,
  );
  if (deps.coachNote) console.error(deps.coachNote);
  if (deps.outcomeJudge) console.error(deps.outcomeJudge.note);
  using stop = interruptible(
    "running episodes are abandoned; --resume continues the training run",
  );
  let announced = false;
  // Episodes the grader could not grade, per metrics line: training goes on with their outcome rewards
  // masked, and the command exits 1 at the end so the infrastructure failure is not missed.
  const ungraded: string[] = [];
  try {
    const done = await trainPipeline(graph, {
      model: deps.model,
      sandbox: deps.sandbox,
      ...(deps.coach ? { coach: deps.coach } : {}),
      ...(deps.outcomeJudge ? { graders: deps.outcomeJudge.graders } : {}),
    }, {
      trainer,
      outDir: values.out!,
      signal: stop,
      environment: {
        mappa: "0.1.0",
        deno: Deno.version.deno,
        sandbox: deps.sandbox.backend,
        ...(deps.outcomeJudge ? { outcome_judge: deps.outcomeJudge.note } : {}),
      },
      ...(steps !== undefined ? { steps } : {}),
      ...(values.resume !== undefined ? { resume: values.resume } : {}),
      ...(outcomeWeight !== undefined ? { outcomeWeight } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(coachNoise !== undefined ? { coachNoise } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      onNote: (note) => console.error(note),
      // Long updates (real models) show their optimizer steps as they happen, on a terminal only.
      ...(Deno.stderr.isTerminal()
        ? {
          onTrainProgress: (role: string, p: TrainProgress) =>
            console.error(
              `  ${role}: update step ${p.step}${
                p.loss != null ? ` loss ${p.loss.toFixed(4)}` : ""
              }`,
            ),
        }
        : {}),
      onLine: (line, run) => {
        if (!announced) {
          announced = true;
          console.error(`training run ${run.dir}`);
          deps.outcomeJudge?.logTo(join(run.dir, "outcome_judge.jsonl"));
        }
        console.log(formatMetricsLine(line, run.train.steps));
        const n = line.outcome.ungraded ?? 0;
        if (n > 0) {
          ungraded.push(
            `${n} in ${
              line.type === "step" ? `step ${line.step}` : `eval ${line.run}`
            } (${line.run}/events.jsonl)`,
          );
        }
      },
    });
    await deps.outcomeJudge?.flush();
    if (done.status === "interrupted") {
      console.error(
        `mappa: interrupted after ${done.steps} steps; continue with: ${CMD} train ${spec} --resume ${done.dir}`,
      );
      return 130;
    }
    if (trainer === "local") {
      for (const [role, version] of Object.entries(done.versions)) {
        const adapter = `${done.dir}/trainer/policies/${role}/v${version}`;
        if (await Deno.stat(adapter).then(() => true, () => false)) {
          console.log(`adapter ${role}@${version}: ${adapter} (PEFT format)`);
        }
      }
    }
    console.log(
      `trained ${done.steps} steps: versions ${
        Object.entries(done.versions).map(([r, v]) => `${r}@${v}`).join(", ")
      }; metrics in ${done.dir}/metrics.jsonl; curves: ${CMD} report ${done.dir}`,
    );
    if (ungraded.length > 0) {
      console.error(
        `mappa: episodes could not be graded for an infrastructure reason (not the agents' failure; their outcome rewards were masked): ${
          ungraded.join(", ")
        }; fix the grader's cause (a missing or unreadable answers file, a timeout), then train on with: ${CMD} train ${spec} --resume ${done.dir}`,
      );
      return 1;
    }
    return 0;
  } catch (e) {
    const cause = e instanceof TrainRunError ? e.cause : e;
    const where = e instanceof TrainRunError
      ? `\n  = note: the training run is in ${e.dir}; after fixing the cause, continue it with: ${CMD} train ${spec} --resume ${e.dir}`
      : "";
    if (
      cause instanceof TrainerError || cause instanceof RangeError ||
      cause instanceof DatasetError || cause instanceof RunStoreError ||
      cause instanceof MetricsError ||
      (cause instanceof Error &&
        /^(Cannot|The local trainer)/.test(cause.message))
    ) {
      console.error(`mappa: ${(cause as Error).message}${where}`);
      return 2;
    }
    if (where) console.error(where.trimStart());
    throw cause;
  }
}

async function readRunGraph(dir: string): Promise<ExecutionGraph> {
  let manifest: { graph?: ExecutionGraph };
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  } catch (e) {
    throw new UsageError(
      `Cannot read run "${dir}": ${
        e instanceof Deno.errors.NotFound
          ? `it has no manifest.json; pass a run directory that \`${CMD} run\` wrote, such as runs/<run_id>`
          : String(e)
      }`,
    );
  }
  if (!manifest.graph) {
    throw new UsageError(
      `Cannot read run "${dir}": its manifest.json holds no graph`,
    );
  }
  return manifest.graph;
}

async function rescore(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rubric: { type: "string" },
      role: { type: "string", multiple: true },
      sample: { type: "string" },
      seed: { type: "string" },
      "judge-url": { type: "string" },
      "judge-model": { type: "string" },
    },
  });
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
    return 1;
  }
  const modelId = graph.coach?.model;
  let client;
  if (rubric.template !== undefined) {
    const models = { ...graph.models };
    const id = modelId ?? "judge";
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
    const now = values["judge-url"] === undefined
      ? servedNow(graph.spec_file, id)
      : undefined;
    models[id] = {
      ...base,
      ...now,
      ...(values["judge-url"] !== undefined
        ? { base_url: values["judge-url"] }
        : {}),
      ...(values["judge-model"] !== undefined
        ? { model: values["judge-model"] }
        : {}),
    };
    if ((models[id]!.base_url ?? "") === "" || models[id]!.model === "") {
      console.error(
        `mappa: Cannot rescore with rubric "${rubric.name}": it needs a judge and models.${id} has no endpoint\n  = hint: pass --judge-url http://host:port/v1 (and --judge-model NAME), or use a rubric with default_score only`,
      );
      return 2;
    }
    client = await createModelClient(models, {
      baseDir: dirname(graph.spec_file),
    });
    // A judge that cannot be reached would only write unscored verdicts: stop before the first.
    const check = await client.preflight([id]);
    for (const note of check.notes) console.error(note);
    if (check.errors.length > 0) {
      console.error(
        `mappa: ${
          check.errors.join("\n  ")
        }\n  = hint: pass --judge-url http://host:port/v1 (and --judge-model NAME) to rescore with another judge`,
      );
      return 2;
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
      return 2;
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
    return 1;
  }
  return 0;
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

async function compare(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      threshold: { type: "string", default: "5" },
      format: { type: "string", default: "text" },
    },
  });
  if (positionals.length !== 3) {
    throw new UsageError(
      `Cannot compare: usage: ${CMD} compare <run> <layerA> <layerB> [--threshold T] [--format json]`,
    );
  }
  const [dir, a, b] = positionals as [string, string, string];
  const threshold = Number(values.threshold);
  if (!Number.isFinite(threshold)) {
    throw new UsageError(
      `Cannot use --threshold "${values.threshold}": expected a number`,
    );
  }
  const { compareRun, formatComparison } = await loadReport();
  const result = await compareRun(dir, a, b, { threshold });
  if (values.format === "json") console.log(JSON.stringify(result, null, 2));
  else console.log(formatComparison(result));
  return 0;
}

async function report(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      bias: { type: "boolean", default: false },
      against: { type: "string" },
    },
  });
  const dir = specArg(positionals, "report");
  const isTraining = await Deno.stat(`${dir}/train.json`).then(
    () => true,
    () => false,
  );
  if (!isTraining && values.against !== undefined) {
    throw new UsageError(
      `Cannot compare ${dir} --against ${values.against}: --against compares two training runs, and ${dir} has no train.json`,
    );
  }
  const { writeReport, writeTrainingReport } = await loadReport();
  const path = isTraining
    ? await writeTrainingReport(dir, {
      ...(values.against !== undefined ? { against: values.against } : {}),
    })
    : await writeReport(dir, { bias: values.bias! });
  console.log(`wrote ${path}`);
  return 0;
}

/** Runs a command on saved runs, reporting the mistakes users make (a wrong layer name, a missing run, a
 * rubric that does not render) as what they are, not as internal errors. */
async function bundle(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      o: { type: "string", short: "o" },
      out: { type: "string" },
      "no-data": { type: "boolean", default: false },
      ...ALLOW_READ,
    },
  });
  const spec = specArg(positionals, "bundle");
  let made;
  try {
    made = await bundleSpecArg(spec, {
      warn: (line) => console.error(line),
      noData: values["no-data"]!,
      ...(values["allow-read"] ? { allowRead: values["allow-read"] } : {}),
    });
  } catch (e) {
    if (e instanceof SpecArgError) throw new UsageError(e.message);
    throw e;
  }
  if (!made.ok) {
    const c = made.compiled;
    console.error(renderDiagnostics(c.diagnostics, c.sources));
    return 1;
  }
  const out = values.o ?? values.out;
  if (out === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(made.text));
  } else {
    await Deno.writeTextFile(out, made.text);
  }
  console.error(
    `${spec}: bundled ${made.files.length} file${
      made.files.length === 1 ? "" : "s"
    } (${made.bytes} bytes)${
      out === undefined ? "" : ` into ${out}`
    }; pin it: #sha256=${await sha256OfText(made.text)}`,
  );
  return 0;
}

async function sha256OfText(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function asUsage(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    const known = e instanceof ScoreLayerError || e instanceof RunStoreError ||
      e instanceof RubricFileError || e instanceof MetricsError ||
      e instanceof DatasetError || e instanceof Deno.errors.NotFound ||
      ((e instanceof TypeError || e instanceof RangeError) &&
        /^Cannot /.test(e.message));
    if (!known) throw e;
    throw new UsageError((e as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (
    command !== undefined && (rest.includes("--help") || rest.includes("-h"))
  ) {
    console.log(usage());
    return 0;
  }
  switch (command) {
    case "check":
      return await check(rest);
    case "graph":
      return await graph(rest);
    case "schema":
      return await schema(rest);
    case "run":
      return await run(rest);
    case "train":
      return await train(rest);
    case "bundle":
      return await bundle(rest);
    case "rescore":
      return await asUsage(() => rescore(rest));
    case "compare":
      return await asUsage(() => compare(rest));
    case "report":
      return await asUsage(() => report(rest));
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(usage());
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `Cannot run unknown command "${command}": expected check, graph, schema, run, train, bundle, rescore, compare or report`,
      );
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    // Never a stack trace: usage problems and bad arguments are the user's to fix; anything else is ours.
    const known = e instanceof UsageError ||
      (e instanceof TypeError &&
        (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
    let message = e instanceof Error ? e.message : String(e);
    const option = /^Unknown option '([^']+)'/.exec(message);
    if (option) {
      message = `Cannot use option "${
        option[1]
      }": it is not an option of this command; see ${CMD} ${
        Deno.args[0] ?? ""
      } --help`.replace("  ", " ");
    }
    console.error(
      known
        ? `mappa: ${message}`
        : `mappa: internal error: ${message} (please report this with the spec that caused it)`,
    );
    code = known ? 2 : 3;
  }
  Deno.exit(code);
}
