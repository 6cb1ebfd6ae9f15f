import { join } from "node:path";
import type { ExecutionGraph, GraphTrain } from "../dsl/mod.ts";
import { loadTasks } from "../runtime/mod.ts";
import { checkTrain } from "./_check_train.ts";
import { restorePolicies, startTrainer } from "./_connect_trainer.ts";
import { evalDue, evaluatePolicies, padStep } from "./_evaluate_policies.ts";
import { openRolloutEngine } from "./_rollout_engine.ts";
import { episodeRunner, setProbes } from "./_rollout_runs.ts";
import { readScoredRun } from "./_scored_run.ts";
import { updatePolicies } from "./_update_policies.ts";
import type { LocalTrainer } from "./local_trainer.ts";
import { PolicyModelClient } from "./policy_client.ts";
import { categoryStats, outcomeStats } from "./run_stats.ts";
import { buildSamples } from "./samples.ts";
import { sampleTasks } from "./sample_tasks.ts";
import { TrainerClient } from "./trainer_client.ts";
import type { TrainDeps, TrainOptions, TrainResult } from "./train_options.ts";
import { openTrainRun } from "./train_run.ts";
import { TrainRunError } from "./train_run_error.ts";
import type { VllmEngine } from "./vllm_engine.ts";

export { policyConfig } from "./policy_config.ts";
export type { TrainDeps, TrainOptions, TrainResult } from "./train_options.ts";
export { TrainRunError } from "./train_run_error.ts";

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
  // A new run takes the spec's settings and the command line's overrides; a resumed one keeps the
  // settings it started with (train.json), unless the command line overrides them again.
  const run = await openTrainRun(graph, spec, {
    outDir: options.outDir ?? "runs",
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
  let local: LocalTrainer | undefined;
  let engine: VllmEngine | undefined;
  try {
    local = await startTrainer(run, trainerUrl, note);
    const client = new TrainerClient(local?.url ?? trainerUrl);
    // A local trainer serves this run alone; on a shared one, policies are named after the run too.
    const policyOf = (role: string) =>
      local !== undefined ? role : `${run.id}.${role}`;
    const info = await client.info();
    await run.checkTrainer(info);
    const versions = await restorePolicies(client, run, { policyOf, note });
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
    const served = {
      baseUrl: client.openaiBaseUrl,
      roles: train.roles,
      policyOf,
    };
    const rollout = new PolicyModelClient(graph, deps.model, {
      ...served,
      mode: "train",
      seedBase: () => `${train.seed}:${rolloutStep}`,
      ...(engine ? { engine } : {}),
    });
    const evaluator = new PolicyModelClient(graph, deps.model, {
      ...served,
      mode: "eval",
      ...(engine ? { engine } : {}),
    });
    const runEpisodes = episodeRunner(graph, deps, {
      run,
      engine,
      versions,
      // Every episode of a step at once, so a batching trainer or an engine sees the whole step's requests.
      concurrency: options.concurrency ??
        Math.min(64, train.tasks_per_step * train.samples_per_task),
      options,
      note,
    });
    const evaluate = (step: number) =>
      evaluatePolicies(graph, step, {
        run,
        runEpisodes,
        evaluator,
        versions,
        onLine: options.onLine,
      });

    // Before the first step; on resume, the evaluation of the last finished step if it was cut short.
    if (evalDue(run, run.lastStep) && !(await evaluate(run.lastStep))) {
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
      const runId = `step_${padStep(step)}`;
      rolloutStep = step;
      // 1. rollout: the step's tasks, each samples_per_task times, with the current policies
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
      // 2. score: the coach's verdicts, recorded as the rollouts ran
      const { events, verdicts } = await readScoredRun(summary.run_dir, graph);
      // 3. build samples: one per action, rewards from verdicts and outcomes
      const built = buildSamples(events, verdicts, {
        runId: `${run.id}/${runId}`,
        versions,
        reward: train.reward,
        maskTruncated: train.hyperparameters.mask_truncated,
        groupBaseline: train.hyperparameters.baseline === "group",
        ...(run.coachNoise !== undefined ? { coachNoise: run.coachNoise } : {}),
      });
      const rolloutReport = engine?.report();
      setProbes(engine, built, train.roles);
      // 4. update: each role's policy on the trainer
      const roles = await updatePolicies(client, built, {
        run,
        step,
        runId,
        versions,
        policyOf,
        local,
        onTrainProgress: options.onTrainProgress,
      });
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
        ...(rolloutReport ? { rollout: rolloutReport } : {}),
      }, options.onLine);
      // 5. evaluate
      if (evalDue(run, step) && !(await evaluate(step))) {
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
