// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { join } from "node:path";
import {
  formatMetricsLine,
  trainPipeline,
  type TrainProgress,
  TrainRunError,
} from "../training/mod.ts";
import { compileReported, specArg, wholeNumber } from "./_args.ts";
import { episodeDeps, episodeEnvironment } from "./_episodes.ts";
import { interruptible } from "./_interrupt.ts";
import { CMD, EPISODE_OPTIONS } from "./command.ts";
import type { Command, CommandValues } from "./command.ts";
import { EXIT, exitCodeOf, UsageError } from "./exit_codes.ts";

const OPTIONS = {
  trainer: { type: "string" },
  steps: { type: "string" },
  "outcome-weight": { type: "string" },
  seed: { type: "string" },
  "coach-flip": { type: "string" },
  "coach-bias": { type: "string" },
  ...EPISODE_OPTIONS,
} as const;

/** `train <spec>`: trains the spec's trained roles on per-action rewards. */
export const TRAIN: Command<typeof OPTIONS> = {
  name: "train",
  synopsis: [
    "<spec> [--trainer local|URL] [--steps N] [--resume RUN] [--outcome-weight W] [--seed S]",
    "[--coach-flip P] [--coach-bias CATEGORY:POINTS] (study knobs: corrupt the coach's verdicts)",
    "[--out DIR] [--concurrency K] [--sandbox-uid-base N] [--unsafe-no-sandbox]",
  ],
  description: [
    "train the spec's trained roles with REINFORCE++ on per-action rewards",
  ],
  options: OPTIONS,
  run: train,
};

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

/** `--outcome-weight W` (0 to 1) and `--seed S` (a whole number), undefined when absent. */
function weightAndSeed(
  weight: string | undefined,
  seed: string | undefined,
): { outcomeWeight?: number; seed?: number } {
  const outcomeWeight = weight === undefined ? undefined : Number(weight);
  if (
    outcomeWeight !== undefined && !(outcomeWeight >= 0 && outcomeWeight <= 1)
  ) {
    throw new UsageError(
      `Cannot use --outcome-weight "${weight}": it must be a number from 0 (per-action coach rewards) to 1 (the shared outcome reward only)`,
    );
  }
  const s = seed === undefined ? undefined : Number(seed);
  if (s !== undefined && !Number.isSafeInteger(s)) {
    throw new UsageError(
      `Cannot use --seed "${seed}": it must be a whole number`,
    );
  }
  return {
    ...(outcomeWeight !== undefined ? { outcomeWeight } : {}),
    ...(s !== undefined ? { seed: s } : {}),
  };
}

async function train(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const spec = specArg(positionals, "train");
  const graph = await compileReported(spec, values["allow-read"]);
  if (graph === null) return EXIT.failed;
  if (graph.train === undefined) {
    throw new UsageError(
      `Cannot train ${spec}: it has no train section; add train: { roles: [...], trainer: { url: local } }`,
    );
  }
  const knobs = weightAndSeed(values["outcome-weight"], values.seed);
  const steps = wholeNumber("steps", values.steps);
  const coachNoise = coachNoiseArgs(values["coach-flip"], values["coach-bias"]);
  const concurrency = wholeNumber("concurrency", values.concurrency);
  const deps = await episodeDeps(graph, spec, values, {
    command: "train",
    noCoach: false,
    forceCoach: true,
    servedRoles: graph.train.roles,
  });
  if (typeof deps === "number") return deps;
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
      outDir: values.out,
      signal: stop,
      environment: episodeEnvironment(deps),
      ...(steps !== undefined ? { steps } : {}),
      ...(values.resume !== undefined ? { resume: values.resume } : {}),
      ...knobs,
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
      return EXIT.interrupted;
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
      return EXIT.failed;
    }
    return EXIT.ok;
  } catch (e) {
    const cause = e instanceof TrainRunError ? e.cause : e;
    const where = e instanceof TrainRunError
      ? `\n  = note: the training run is in ${e.dir}; after fixing the cause, continue it with: ${CMD} train ${spec} --resume ${e.dir}`
      : "";
    const code = exitCodeOf(cause);
    if (code !== EXIT.internal) {
      console.error(`mappa: ${(cause as Error).message}${where}`);
      return code;
    }
    if (where) console.error(where.trimStart());
    throw cause;
  }
}
