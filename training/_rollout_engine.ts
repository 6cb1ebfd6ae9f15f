import { join } from "node:path";
import type { GraphTrain } from "../dsl/mod.ts";
import type { RunEvent } from "../runtime/mod.ts";
import type { Sample } from "./protocol.ts";
import { readRunEvents } from "./run_stats.ts";
import type { TrainerClient } from "./trainer_client.ts";
import type { TrainRun } from "./train_run.ts";
import { VllmEngine } from "./vllm_engine.ts";

/**
 * Opens the inference engine `train.rollout` names, or undefined for `engine: trainer`. On a resumed run
 * each role's probe is a real action of the last finished step, so the reloaded version is checked on
 * what it was trained on.
 */
export async function openRolloutEngine(
  run: TrainRun,
  options: {
    trainer: TrainerClient;
    baseModel: string;
    policyOf: (role: string) => string;
    note: (note: string) => void;
  },
): Promise<VllmEngine | undefined> {
  const train: GraphTrain = run.train;
  // A run recorded before train.rollout existed has none: the trainer serves it.
  const spec = train.rollout as GraphTrain["rollout"] | undefined;
  if (spec === undefined || spec.engine !== "vllm") return undefined;
  if (spec.adapter_dir === undefined) {
    throw new RangeError(
      "Cannot deliver adapters to vLLM: train.rollout.adapter_dir is not set; set it to a directory that mappa and every engine see at the same path",
    );
  }
  const engine = await VllmEngine.open({
    urls: spec.urls,
    adapterDir: spec.adapter_dir,
    runId: run.id,
    session: run.session,
    roles: train.roles,
    policyOf: options.policyOf,
    trainer: options.trainer,
    baseModel: options.baseModel,
    maxStaleness: spec.max_staleness,
    tolerance: spec.probe_tolerance,
    onNote: options.note,
  });
  options.note(
    `rollouts: vLLM at ${
      spec.urls.join(", ")
    }; adapters written to ${spec.adapter_dir}`,
  );
  if (run.lastStep > 0) {
    const dir = join(
      run.dir,
      "steps",
      `step_${String(run.lastStep).padStart(4, "0")}`,
    );
    const events = await readRunEvents(dir).catch(() => [] as RunEvent[]);
    for (const role of train.roles) {
      const calls = events.flatMap((e) =>
        e.kind === "action" && e.role === role && e.model_call.ok
          ? [e.model_call]
          : []
      );
      const best = longest(calls.map((c) => ({
        prompt_token_ids: [...(c.prompt_token_ids ?? [])],
        completion_token_ids: [...(c.completion_token_ids ?? [])],
      })));
      if (best) {
        engine.setProbe(role, best.prompt_token_ids, best.completion_token_ids);
      }
    }
  }
  return engine;
}

/** The sample with the longest completion: the most tokens on which a new version differs from the last. */
export function longest<
  T extends Pick<Sample, "prompt_token_ids" | "completion_token_ids">,
>(samples: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const s of samples) {
    if (
      s.prompt_token_ids.length > 0 &&
      s.completion_token_ids.length >
        (best?.completion_token_ids.length ?? 0)
    ) best = s;
  }
  return best;
}
