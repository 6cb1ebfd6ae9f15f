import { join } from "node:path";
import type { ExecutionGraph, GraphTrain } from "../dsl/mod.ts";
import {
  type Coach,
  modelCapMessage,
  type ModelClient,
  runPipeline,
  type RunSummary,
  type Sandbox,
} from "../runtime/mod.ts";
import type { Grader } from "../runtime/graders/grade.ts";
import { loadTasks } from "../runtime/load_tasks.ts";
import { startLocalTrainer } from "./local_trainer.ts";
import { longest, openRolloutEngine } from "./_rollout_engine.ts";
import { mean, type MetricsLine, type RoleStep } from "./metrics.ts";
import { PolicyModelClient } from "./policy_client.ts";
import type { PolicyConfig, TrainLine } from "./protocol.ts";
import {
  categoryStats,
  countedVerdicts,
  outcomeStats,
  readRunEvents,
  readVerdicts,
  roleScores,
} from "./run_stats.ts";
import { buildSamples } from "./samples.ts";
import type { CoachNoise } from "./coach_noise.ts";
import { sampleTasks } from "./sample_tasks.ts";
import { TrainerClient, TrainerError } from "./trainer_client.ts";
import { trainRole } from "./train_role.ts";
import { openTrainRun, type TrainRun } from "./train_run.ts";
import type { VllmEngine } from "./vllm_engine.ts";

/** Options of {@linkcode trainPipeline}. */
export interface TrainOptions {
  /** `local` starts the Python trainer as a subprocess; else the base URL of a running one. @default the spec's train.trainer.url */
  readonly trainer?: string;
  /** Steps to reach (a resumed run continues up to it). @default the spec's train.steps */
  readonly steps?: number;
  /** A training run directory (or its id under outDir) to continue. */
  readonly resume?: string;
  /** @default "runs" */
  readonly outDir?: string;
  /** Overrides train.reward.outcome_weight: 1 trains on the shared outcome reward only. */
  readonly outcomeWeight?: number;
  /** Overrides train.seed (task order, rollout sampling, trainer init). */
  readonly seed?: number;
  /** A study knob: corrupts the coach's verdicts before they become rewards (recorded in train.json). */
  readonly coachNoise?: Omit<CoachNoise, "seed"> & { seed?: number };
  /** Episodes in flight at once. @default a step's episodes (tasks_per_step × samples_per_task), at most 64 */
  readonly concurrency?: number;
  /** Facts about the environment recorded in each rollout run's manifest. */
  readonly environment?: Record<string, unknown>;
  readonly signal?: AbortSignal;
  /** Called with every metrics line once written (a promise it returns is awaited), and with notes. */
  readonly onLine?: (line: MetricsLine, run: TrainRun) => void;
  readonly onNote?: (note: string) => void;
  /** Called with each progress line of a policy update (one per optimizer step), as the trainer sends it. */
  readonly onTrainProgress?: (
    role: string,
    line: Extract<TrainLine, { type: "progress" }>,
  ) => void;
}

/** The adapters a training run needs: the base model client (frozen roles, the judge), a sandbox, a coach per rollout. */
export interface TrainDeps {
  readonly model: ModelClient;
  readonly sandbox: Sandbox;
  /** A fresh coach for each rollout run, or undefined when the spec has none. */
  readonly coach?: () => Coach;
  /** Grader kinds beyond the built-in ones (e.g. `llm_judge`), as `runPipeline` takes them. */
  readonly graders?: Readonly<Record<string, Grader>>;
}

/** How a training run ended. */
export interface TrainResult {
  readonly dir: string;
  readonly steps: number;
  readonly status: "completed" | "interrupted";
  readonly versions: Record<string, number>;
}

/** The policy a trained role gets on the trainer, from the spec's hyperparameters. */
export function policyConfig(train: GraphTrain): PolicyConfig {
  const h = train.hyperparameters;
  return {
    adapter: {
      r: h.lora_rank,
      alpha: h.lora_alpha,
      ...(h.lora_target_modules !== undefined
        ? { target_modules: [...h.lora_target_modules] }
        : {}),
    },
    optimizer: {
      lr: h.learning_rate,
      weight_decay: 0,
      grad_clip: h.max_grad_norm,
      // The schedule spans the run's steps; each train request names its step (trainRole).
      schedule: h.lr_schedule,
      warmup_steps: Math.round(h.warmup_ratio * train.steps),
      total_steps: train.steps,
      min_lr_ratio: h.min_lr_ratio,
    },
    algo: {
      name: h.baseline === "group" ? "reinforce_pp_baseline" : "reinforce_pp",
      kl_coef: h.kl_coef,
      kl_estimator: "k1",
      clip_eps: [h.clip_eps, h.clip_eps],
      reward_clip: [-h.reward_clip, h.reward_clip],
      gamma: h.gamma,
      ppo_epochs: h.epochs,
      // Samples per optimizer step; unset: the whole step's samples (one optimizer step per epoch).
      minibatch_size: h.minibatch_size ?? 4096,
      // The runtime masks truncated actions itself, by the finish reason the server reported; the
      // trainer's own test (last token not EOS) would also drop replies cut by a stop string.
      mask_truncated: false,
      no_std_norm: !h.normalize_std,
    },
  };
}

const pad = (n: number) => String(n).padStart(4, "0");

/** The settings a run trains with can work: roles to train, a coach or an outcome to reward them. */
function checkTrain(
  graph: ExecutionGraph,
  train: GraphTrain,
  deps: TrainDeps,
): void {
  if (train.roles.length === 0) {
    throw new RangeError(
      `Cannot train pipeline "${graph.name}": no role is trainable; list roles under train.roles`,
    );
  }
  if (train.reward.outcome_weight < 1 && deps.coach === undefined) {
    throw new RangeError(
      `Cannot train pipeline "${graph.name}" on per-action rewards: no coach scores its actions (the spec has none, or its judge has no endpoint); give the coach an endpoint, or train on the outcome only with --outcome-weight 1`,
    );
  }
  if (train.reward.outcome_weight > 0 && graph.outcome === undefined) {
    throw new RangeError(
      `Cannot mix outcome rewards (outcome_weight ${train.reward.outcome_weight}) into pipeline "${graph.name}": it declares no outcome grader; set train.reward.outcome_weight: 0 or add an outcome`,
    );
  }
}

/**
 * Trains the spec's trained roles (DESIGN.md decision 9): each step samples `tasks_per_step` tasks of
 * `train.split`, runs `samples_per_task` episodes of each with the trained roles served by the trainer
 * (exact token ids recorded), lets the coach score every action, turns the verdicts into one sample per
 * action (`buildSamples`) and sends each role's samples to `/v1/train` for that role's policy. Every
 * `eval.every` steps (and before the first) it runs the `eval.splits`. Everything lands in one training
 * run directory: `train.json`, `metrics.jsonl`, `steps/step_NNNN/` and `evals/…` (ordinary runs, so
 * `rescore`, `compare` and `report` work on them) and `trainer/` (the local trainer's checkpoints). A
 * killed run continues with `resume`: finished steps are kept, the policies restored to their last
 * recorded versions, and a half-done step's rollouts finished before it trains.
 *
 * @example
 * ```ts ignore
 * const graph = compileOrThrow("pipelines/relay.yaml");
 * const done = await trainPipeline(graph, { model, sandbox, coach: () => new RunCoach(graph) }, { steps: 10 });
 * console.log(done.dir, done.versions);
 * ```
 */
export async function trainPipeline(
  graph: ExecutionGraph,
  deps: TrainDeps,
  options: TrainOptions = {},
): Promise<TrainResult> {
  if (graph.train === undefined) {
    throw new RangeError(
      `Cannot train pipeline "${graph.name}": its spec has no train section; add train: { roles: [...] }`,
    );
  }
  const spec: GraphTrain = graph.train;
  const outDir = options.outDir ?? "runs";
  // A new run takes the spec's settings and the command line's overrides; a resumed one keeps the
  // settings it started with (train.json), unless the command line overrides them again.
  const run = await openTrainRun(graph, spec, {
    outDir,
    trainer: options.trainer ?? spec.trainer.url,
    ...(options.resume !== undefined ? { resume: options.resume } : {}),
    overrides: {
      ...(options.steps !== undefined ? { steps: options.steps } : {}),
      ...(options.outcomeWeight !== undefined
        ? { outcomeWeight: options.outcomeWeight }
        : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.coachNoise !== undefined
        ? { coachNoise: options.coachNoise }
        : {}),
    },
    check: (train) => checkTrain(graph, train, deps),
  });
  const train = run.train;
  const trainerUrl = options.trainer ?? train.trainer.url;
  const note = (s: string) => options.onNote?.(s);
  // Every episode of a step at once, so a batching trainer or an engine sees the whole step's requests.
  const concurrency = options.concurrency ??
    Math.min(64, train.tasks_per_step * train.samples_per_task);
  const capsNoted = new Set<string>();
  let local: Awaited<ReturnType<typeof startLocalTrainer>> | undefined;
  let engine: VllmEngine | undefined;
  try {
    if (trainerUrl === "local") {
      const baseModel = train.trainer.base_model ??
        (train.trainer.backend === "tiny" ? "tiny" : undefined);
      if (baseModel === undefined) {
        throw new RangeError(
          `Cannot start the ${train.trainer.backend} trainer: train.trainer.base_model names no model; set it to a Hugging Face model directory`,
        );
      }
      local = await startLocalTrainer({
        backend: train.trainer.backend,
        baseModel,
        outDir: join(run.dir, "trainer"),
        seed: train.seed,
      });
      note(
        `trainer: local ${train.trainer.backend} (${baseModel}) at ${local.url}, log ${local.log}`,
      );
    }
    const client = new TrainerClient(local?.url ?? trainerUrl);
    // A local trainer serves this run alone; on a shared one, policies are named after the run too.
    const policyOf = (role: string) =>
      local !== undefined ? role : `${run.id}.${role}`;
    // A restarted remote trainer that lost its checkpoints cannot continue this run.
    const lost = (role: string, want: number) =>
      `the trainer has no checkpoint of policy "${role}" at version ${want}, which this run reached; it was restarted without its checkpoint directory (${
        join(run.dir, "trainer")
      } for --trainer local), so the run cannot continue from there`;
    const info = await client.info();
    await run.checkTrainer(info);
    const versions: Record<string, number> = { ...run.versions };
    for (const role of train.roles) {
      const state = await client.putPolicy(policyOf(role), policyConfig(train));
      const want = versions[role] ?? 0;
      if (state.version !== want) {
        const restored = await client.restore(policyOf(role), want).catch(
          (e) => {
            throw e instanceof TrainerError && e.code === "checkpoint_not_found"
              ? new TrainerError(
                `Cannot resume: ${lost(role, want)}`,
                e.code,
                e.status,
                e.body,
              )
              : e;
          },
        );
        note(`policy ${role}: restored version ${restored.version}`);
      }
      versions[role] = want;
    }
    const trainIds = (await loadTasks(graph.dataset, train.split)).tasks.map((
      t,
    ) => t.id);
    if (trainIds.length === 0) {
      throw new RangeError(
        `Cannot train on split "${train.split}": it has no tasks (after removing overlaps with eval splits)`,
      );
    }
    // train.rollout: vLLM serves the trained roles; each version is delivered and verified before use.
    engine = await openRolloutEngine(run, {
      trainer: client,
      baseModel: info.base_model,
      policyOf,
      note,
    });
    // train.seed makes the rollouts reproducible: every training action is sampled with a seed derived
    // from (train.seed, step, episode, role, turn), whatever order the requests reach the trainer in.
    let rolloutStep = 0;
    const rollout = new PolicyModelClient(graph, deps.model, {
      baseUrl: client.openaiBaseUrl,
      roles: train.roles,
      policyOf,
      mode: "train",
      seedBase: () => `${train.seed}:${rolloutStep}`,
      ...(engine ? { engine } : {}),
    });
    const evaluator = new PolicyModelClient(graph, deps.model, {
      baseUrl: client.openaiBaseUrl,
      roles: train.roles,
      policyOf,
      mode: "eval",
      ...(engine ? { engine } : {}),
    });
    const runEpisodes = async (
      runId: string,
      dir: string,
      model: ModelClient,
      extra: {
        split: string;
        taskIds?: string[];
        limit?: number;
        samples: number;
        coach: boolean;
      },
    ): Promise<RunSummary> => {
      const exists = await Deno.stat(join(dir, runId, "manifest.json")).then(
        () => true,
        () => false,
      );
      // A run killed while its directory was being created has no manifest and nothing recorded yet.
      if (!exists) {
        await Deno.remove(join(dir, runId), { recursive: true }).catch(
          () => {},
        );
      }
      const coach = extra.coach ? deps.coach?.() : undefined;
      await engine?.sync(versions);
      const signals = [options.signal, engine?.signal].filter((
        s,
      ): s is AbortSignal => s !== undefined);
      const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      const summary = await runPipeline(graph, {
        model,
        sandbox: deps.sandbox,
        ...(deps.graders ? { graders: deps.graders } : {}),
      }, {
        policy: "model",
        outDir: dir,
        concurrency,
        onEvent: (e) => {
          if (e.kind !== "run_started") return;
          for (const cap of e.capped_models ?? []) {
            if (capsNoted.has(cap.model)) continue;
            capsNoted.add(cap.model);
            note(modelCapMessage(cap));
          }
        },
        environment: { ...(options.environment ?? {}), training_run: run.id },
        ...(coach ? { coach } : {}),
        ...(signal ? { signal } : {}),
        ...(exists ? { resume: join(dir, runId) } : {
          runId,
          split: extra.split,
          samplesPerTask: extra.samples,
          ...(extra.taskIds ? { taskIds: extra.taskIds } : {}),
          ...(extra.limit !== undefined ? { limit: extra.limit } : {}),
        }),
      });
      // The engine stopped the rollouts (a restarted engine failed its re-check, a template mismatch):
      // the episodes it aborted are left for --resume.
      if (engine?.failure) throw engine.failure;
      return summary;
    };
    const evaluate = async (step: number) => {
      for (const split of train.eval.splits) {
        if (run.evalsDone.has(`${step}:${split}`)) continue;
        const started = performance.now();
        const runId = `step_${pad(step)}_${split}`;
        const summary = await runEpisodes(
          runId,
          join(run.dir, "evals"),
          evaluator,
          {
            split,
            samples: train.eval.samples_per_task,
            coach: train.eval.coach,
            ...(train.eval.limit !== undefined
              ? { limit: train.eval.limit }
              : {}),
          },
        );
        if (summary.status === "interrupted") return false;
        const events = await readRunEvents(summary.run_dir);
        const verdicts = countedVerdicts(
          events,
          await readVerdicts(summary.run_dir, graph),
        );
        await run.append({
          type: "eval",
          step,
          ts: new Date().toISOString(),
          seconds: (performance.now() - started) / 1000,
          split,
          run: `evals/${runId}`,
          versions: { ...versions },
          outcome: outcomeStats(events, graph.outcome),
          roles: roleScores(verdicts),
          categories: categoryStats(events, verdicts),
        }, options.onLine);
      }
      return true;
    };
    // Before the first step; on resume, the evaluation of the last finished step if it was cut short.
    const evalDue = (step: number) =>
      step === 0 || step % train.eval.every === 0 || step === train.steps;
    if (evalDue(run.lastStep) && !(await evaluate(run.lastStep))) {
      return await run.finish("interrupted", versions);
    }
    for (let step = run.lastStep + 1; step <= train.steps; step++) {
      if (local?.exited()) {
        throw new Error(
          `The local trainer stopped before step ${step}; the last lines of ${local.log}:\n  ${await local
            .logTail()}`,
        );
      }
      const started = performance.now();
      const runId = `step_${pad(step)}`;
      rolloutStep = step;
      const summary = await runEpisodes(
        runId,
        join(run.dir, "steps"),
        rollout,
        {
          split: train.split,
          taskIds: sampleTasks(
            trainIds,
            train.tasks_per_step,
            step,
            train.seed,
          ),
          samples: train.samples_per_task,
          coach: true,
        },
      );
      if (summary.status === "interrupted") {
        return await run.finish("interrupted", versions);
      }
      const events = await readRunEvents(summary.run_dir);
      const verdicts = countedVerdicts(
        events,
        await readVerdicts(summary.run_dir, graph),
      );
      const built = buildSamples(events, verdicts, {
        runId: `${run.id}/${runId}`,
        versions,
        reward: train.reward,
        maskTruncated: train.hyperparameters.mask_truncated,
        groupBaseline: train.hyperparameters.baseline === "group",
        ...(run.coachNoise !== undefined ? { coachNoise: run.coachNoise } : {}),
      });
      const served = engine?.report();
      for (const role of train.roles) {
        const probe = longest(built[role]!.samples);
        if (probe) {
          engine?.setProbe(
            role,
            probe.prompt_token_ids,
            probe.completion_token_ids,
          );
        }
      }
      const roles: Record<string, RoleStep> = {};
      for (const role of train.roles) {
        const b = built[role]!;
        const before = versions[role]!;
        const base: RoleStep = {
          version_before: before,
          version: before,
          samples: b.samples.length,
          masked: b.masked,
          reward_mean: mean(b.samples.map((s) => s.reward)),
          score_mean: mean(b.scores),
          scored: b.scores.length,
          completion_tokens: b.completionTokens,
        };
        const failed = b.masked.no_tokens ?? 0;
        const actions = b.samples.length +
          Object.values(b.masked).reduce((a, n) => a + (n ?? 0), 0);
        if (failed > 0 && failed === actions) {
          throw new Error(
            `Cannot train role "${role}" at step ${step}: all ${failed} of its model calls to the trainer failed (see steps/${runId}/events.jsonl${
              local ? ` and ${local.log}` : ""
            })`,
          );
        }
        roles[role] = await trainRole(client, {
          role,
          policyId: policyOf(role),
          step,
          totalSteps: train.steps,
          runId,
          expected: before,
          key: `${run.id}:${runId}:${role}:${run.session}`,
          samples: b.samples,
          base,
          ...(options.onTrainProgress
            ? {
              onProgress: (line: Extract<TrainLine, { type: "progress" }>) =>
                options.onTrainProgress!(role, line),
            }
            : {}),
        });
        versions[role] = roles[role]!.version;
      }
      await run.append({
        type: "step",
        step,
        ts: new Date().toISOString(),
        seconds: (performance.now() - started) / 1000,
        run: `steps/${runId}`,
        roles,
        outcome: outcomeStats(events, graph.outcome),
        categories: categoryStats(events, verdicts),
        outcome_weight: train.reward.outcome_weight,
        ...(served ? { rollout: served } : {}),
      }, options.onLine);
      if (evalDue(step) && !(await evaluate(step))) {
        return await run.finish("interrupted", versions);
      }
      if (options.signal?.aborted) {
        return await run.finish("interrupted", versions);
      }
    }
    return await run.finish("completed", versions);
  } catch (e) {
    await run.fail(e instanceof Error ? e.message : String(e)).catch(() => {});
    throw new TrainRunError(e, run.dir);
  } finally {
    await engine?.close();
    await local?.stop();
  }
}

/** A training run that stopped on an error: the error, and the directory `--resume` continues. */
export class TrainRunError extends Error {
  /** The training run's directory. */
  readonly dir: string;
  constructor(cause: unknown, dir: string) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "TrainRunError";
    this.dir = dir;
  }
}
