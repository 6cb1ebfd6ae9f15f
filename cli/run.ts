// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { join } from "node:path";
import {
  BwrapSandbox,
  formatProgress,
  formatSummary,
  modelCapMessage,
  runPipeline,
  type RunSummary,
} from "../runtime/mod.ts";
import { compileReported, specArg, wholeNumber } from "./_args.ts";
import { episodeDeps, episodeEnvironment } from "./_episodes.ts";
import { interruptible } from "./_interrupt.ts";
import { CMD, EPISODE_OPTIONS } from "./command.ts";
import type { Command, CommandValues } from "./command.ts";
import { EXIT, exitCodeOf } from "./exit_codes.ts";

const OPTIONS = {
  split: { type: "string" },
  limit: { type: "string" },
  "sandbox-concurrency": { type: "string" },
  "keep-workspaces": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  "no-coach": { type: "boolean", default: false },
  ...EPISODE_OPTIONS,
} as const;

/** `run <spec>`: runs a pipeline over a dataset split. */
export const RUN: Command<typeof OPTIONS> = {
  name: "run",
  synopsis: [
    "<spec> [--split S] [--limit N] [--concurrency K] [--sandbox-concurrency K]",
    "[--resume RUN] [--out DIR] [--keep-workspaces] [--json] [--no-coach]",
    "[--sandbox-uid-base N] [--unsafe-no-sandbox]",
  ],
  description: ["run a pipeline over a dataset split"],
  options: OPTIONS,
  run,
};

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

/** What stderr says after the summary: failed episodes, failed model calls, ungraded episodes. */
function failureLines(summary: RunSummary, spec: string): string[] {
  const lines: string[] = [];
  if (summary.episodes_failed > 0) {
    lines.push(
      `mappa: ${summary.episodes_failed} episode${
        summary.episodes_failed === 1 ? "" : "s"
      } failed (see above); --resume ${summary.run_dir} runs them again`,
    );
  }
  const n = summary.episodes_model_failed;
  if (n > 0) {
    lines.push(
      `mappa: ${n} episode${
        n === 1 ? "" : "s"
      } had model calls that failed for an infrastructure reason (server down, key refused, model not served; those actions are not judged); fix the cause, then run ${
        n === 1 ? "it" : "them"
      } again: ${CMD} run ${spec} --resume ${summary.run_dir}`,
    );
  }
  return [...lines, ...ungradedLines(summary, spec)];
}

async function run(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const spec = specArg(positionals, "run");
  const graph = await compileReported(spec, values["allow-read"]);
  if (graph === null) return EXIT.failed;
  const deps = await episodeDeps(graph, spec, values, {
    command: "run",
    noCoach: values["no-coach"],
  });
  if (typeof deps === "number") return deps;
  const { model, sandbox, policy, unconfigured, roleModels, coachNote } = deps;
  const coach = deps.coach?.();
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
    const judge = deps.outcomeJudge;
    if (judge) console.error(judge.note);
    const summary = await runPipeline(graph, {
      model,
      sandbox,
      ...(judge ? { graders: judge.graders } : {}),
    }, {
      policy,
      ...(coach ? { coach } : {}),
      outDir: values.out,
      keepWorkspaces: values["keep-workspaces"],
      signal: stop,
      environment: episodeEnvironment(deps, {
        sandbox_guarantees: sandbox instanceof BwrapSandbox
          ? sandbox.guarantees
          : { isolation: "none: --unsafe-no-sandbox" },
        models: model.routes,
      }),
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
    for (const line of failureLines(summary, spec)) console.error(line);
    if (summary.status === "interrupted") {
      console.error(
        `mappa: interrupted; finish it with: ${CMD} run ${spec} --resume ${summary.run_dir}`,
      );
      return EXIT.interrupted;
    }
    return summary.episodes_failed > 0 || summary.ungraded > 0 ||
        summary.episodes_model_failed > 0
      ? EXIT.failed
      : EXIT.ok;
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === EXIT.internal) throw e;
    console.error(
      `mappa: ${(e as Error).message}${
        runId ? `\n  = note: the run is in ${values.out}/${runId}` : ""
      }`,
    );
    return code;
  }
}
