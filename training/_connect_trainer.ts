import { join } from "node:path";
import { type LocalTrainer, startLocalTrainer } from "./local_trainer.ts";
import { policyConfig } from "./policy_config.ts";
import { type TrainerClient, TrainerError } from "./trainer_client.ts";
import type { TrainRun } from "./train_run.ts";

/** Starts the local trainer when `trainerUrl` is `local` (its checkpoints under `<run>/trainer/`). */
export async function startTrainer(
  run: TrainRun,
  trainerUrl: string,
  note: (note: string) => void,
): Promise<LocalTrainer | undefined> {
  if (trainerUrl !== "local") return undefined;
  const train = run.train;
  const baseModel = train.trainer.base_model ??
    (train.trainer.backend === "tiny" ? "tiny" : undefined);
  if (baseModel === undefined) {
    throw new RangeError(
      `Cannot start the ${train.trainer.backend} trainer: train.trainer.base_model names no model; set it to a Hugging Face model directory`,
    );
  }
  const local = await startLocalTrainer({
    backend: train.trainer.backend,
    baseModel,
    outDir: join(run.dir, "trainer"),
    seed: train.seed,
  });
  note(
    `trainer: local ${train.trainer.backend} (${baseModel}) at ${local.url}, log ${local.log}`,
  );
  return local;
}

/**
 * Creates each trained role's policy on the trainer and restores it to the version the run reached;
 * returns those versions.
 */
export async function restorePolicies(
  client: TrainerClient,
  run: TrainRun,
  { policyOf, note }: {
    policyOf: (role: string) => string;
    note: (note: string) => void;
  },
): Promise<Record<string, number>> {
  // A restarted remote trainer that lost its checkpoints cannot continue this run.
  const lost = (role: string, want: number) =>
    `the trainer has no checkpoint of policy "${role}" at version ${want}, which this run reached; it was restarted without its checkpoint directory (${
      join(run.dir, "trainer")
    } for --trainer local), so the run cannot continue from there`;
  const versions: Record<string, number> = { ...run.versions };
  for (const role of run.train.roles) {
    const state = await client.putPolicy(
      policyOf(role),
      policyConfig(run.train),
    );
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
  return versions;
}
