import { dirname } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  createModelClient,
  loadModelScript,
  type ModelRouter,
  ModelScriptError,
  type Sandbox,
  SandboxError,
  ScriptedModelClient,
  UnsafeSandbox,
} from "../runtime/mod.ts";
import { DemoJudgeClient, RunCoach } from "../coaches/mod.ts";
import {
  type OutcomeJudgeSetup,
  prepareOutcomeJudge,
} from "./outcome_judge.ts";
import { EXIT } from "./exit_codes.ts";

/** What `run` and `train` wire into the ports, and what the CLI says about it. */
export interface CliDeps {
  readonly model: ModelRouter;
  /** A fresh inline coach, or undefined when the run is not coached. */
  readonly coach?: () => RunCoach;
  readonly coachNote?: string;
  /** The `llm_judge` outcome grader (its `graders`, note and judgement log), when the outcome has one. */
  readonly outcomeJudge?: OutcomeJudgeSetup;
  readonly sandbox: Sandbox;
  readonly policy: "model" | "demo";
  /** Models with no endpoint that the demo policy answers. */
  readonly unconfigured: readonly string[];
  /** Role models (of the roles the models serve). */
  readonly roleModels: readonly string[];
  /** A warning to print before anything else (--unsafe-no-sandbox). */
  readonly warning?: string;
}

/** Options of {@linkcode prepareDeps}. */
export interface PrepareDepsOptions {
  readonly command: string;
  readonly spec: string;
  readonly noCoach: boolean;
  /** The coach runs whatever `coach.when` says (training needs verdicts as it goes). */
  readonly forceCoach?: boolean;
  readonly unsafeNoSandbox: boolean;
  readonly uidBase?: number;
  /** Roles whose models are served elsewhere (the trainer): their endpoints are not needed. */
  readonly servedRoles?: readonly string[];
}

/** Builds the model client, coach and sandbox of a `run` or `train`; a problem is a message and an exit code. */
export async function prepareDeps(
  graph: ExecutionGraph,
  options: PrepareDepsOptions,
): Promise<
  { ok: true; deps: CliDeps } | { ok: false; code: number; message: string }
> {
  const served = new Set(options.servedRoles ?? []);
  const roleModels = [
    ...new Set(
      graph.roles.filter((r) => !served.has(r.id)).map((r) => r.model),
    ),
  ];
  const unconfigured = roleModels.filter((m) => {
    const model = graph.models[m]!;
    return model.provider === "openai" && (model.base_url ?? "") === "";
  });
  const scriptedModels = roleModels.filter((m) =>
    graph.models[m]!.provider === "scripted"
  );
  let fallback: ScriptedModelClient | undefined;
  if (unconfigured.length > 0) {
    if (graph.demo === undefined) {
      return {
        ok: false,
        code: EXIT.usage,
        message:
          `Cannot ${options.command} ${options.spec}: model${
            unconfigured.length > 1 ? "s" : ""
          } ${unconfigured.map((m) => `"${m}"`).join(", ")} ha${
            unconfigured.length > 1 ? "ve" : "s"
          } no endpoint (base_url is empty) and the spec declares no demo policy\n` +
          `  = hint: set models.<name>.base_url (or the variable it reads), or add demo: <script.yaml> to the spec`,
      };
    }
    try {
      fallback = new ScriptedModelClient(await loadModelScript(graph.demo), {
        file: graph.demo,
      });
    } catch (e) {
      if (!(e instanceof ModelScriptError)) throw e;
      return { ok: false, code: EXIT.failed, message: e.message };
    }
  }
  const policy = unconfigured.length > 0 || scriptedModels.length > 0
    ? "demo"
    : "model";
  const model = await createModelClient(graph.models, {
    baseDir: dirname(graph.spec_file),
    ...(fallback ? { fallback } : {}),
  });
  let coach: (() => RunCoach) | undefined;
  let coachNote: string | undefined;
  const when = graph.coach?.when;
  if (
    graph.coach && !options.noCoach &&
    (when === "inline" || (options.forceCoach && when !== "off"))
  ) {
    const judge = graph.models[graph.coach.model]!;
    const configured = judge.provider === "scripted"
      ? judge.script !== undefined
      : (judge.base_url ?? "") !== "";
    if (
      RunCoach.needsJudge(graph) && !configured && !options.forceCoach &&
      roleModels.every((m) =>
        unconfigured.includes(m) || scriptedModels.includes(m)
      )
    ) {
      // The offline demo: the demo policy answers the judge too, with labelled scripted verdicts, so the
      // first run ends with a score layer and a report. Never in training, never beside a real policy.
      const judgeModel = graph.coach.model;
      coach = () =>
        new RunCoach(graph, {
          client: new DemoJudgeClient(model, judgeModel),
          sandbox,
        });
      coachNote =
        `coach: demo judge (scripted verdicts, labelled as such, not a model's): models.${judgeModel} has no endpoint; set its base_url to have a model judge`;
    } else if (RunCoach.needsJudge(graph) && !configured) {
      coachNote = `coach: off: models.${graph.coach.model} has no endpoint${
        options.forceCoach ? "" : "; score the run later with deno task rescore"
      }`;
    } else {
      // The sandbox is built below, before any coach: command checks run their programs in it.
      coach = () => new RunCoach(graph, { client: model, sandbox });
      coachNote = `coach: inline, scoring every action with ${
        Object.values(graph.coach.rubrics).map((r) => `${r.name}@${r.hash}`)
          .join(", ")
      }`;
    }
  } else if (graph.coach) {
    coachNote = `coach: off (${
      options.noCoach ? "--no-coach" : `coach.when: ${graph.coach.when}`
    }); score with deno task rescore`;
  }
  // The demo judge answers an llm_judge outcome only where it would answer the coach: offline, not training.
  const outcomeJudge = prepareOutcomeJudge(graph, {
    client: model,
    demoAllowed: !options.forceCoach &&
      roleModels.every((m) =>
        unconfigured.includes(m) || scriptedModels.includes(m)
      ),
  });
  let sandbox: Sandbox;
  let warning: string | undefined;
  if (options.unsafeNoSandbox) {
    warning =
      "WARNING: --unsafe-no-sandbox: agent code runs WITHOUT ISOLATION, with your user's rights";
    sandbox = new UnsafeSandbox({
      iUnderstandThisRunsAgentCodeWithoutIsolation: true,
    });
  } else {
    try {
      // Two mappa processes on one host need disjoint uid ranges: each slot's uid counts against RLIMIT_NPROC.
      const jail = await BwrapSandbox.create(
        options.uidBase !== undefined ? { uidBase: options.uidBase } : {},
      );
      // No writable cgroups: limits are per process; say so before anything runs.
      warning = jail.guarantees.limits_warning;
      sandbox = jail;
    } catch (e) {
      if (!(e instanceof SandboxError)) throw e;
      return {
        ok: false,
        code: EXIT.usage,
        message:
          `${e.message}\n  = note: agent code never runs outside a sandbox unless you pass --unsafe-no-sandbox`,
      };
    }
  }
  return {
    ok: true,
    deps: {
      model,
      ...(coach ? { coach } : {}),
      ...(coachNote ? { coachNote } : {}),
      ...(outcomeJudge ? { outcomeJudge } : {}),
      sandbox,
      policy,
      unconfigured,
      roleModels,
      ...(warning ? { warning } : {}),
    },
  };
}
