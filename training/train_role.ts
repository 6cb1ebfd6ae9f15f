import type { RoleStep } from "./metrics.ts";
import type { Sample, TrainLine } from "./protocol.ts";
import { type TrainerClient, TrainerError } from "./trainer_client.ts";

/** One role's update in one step. In-memory, so camelCase. */
export interface RoleUpdate {
  readonly role: string;
  /** The role's policy on the trainer. */
  readonly policyId: string;
  /** The run's training step, from 1; sent as the schedule's index (`step - 1`). */
  readonly step: number;
  /** The run's steps, sent as the span of the learning-rate schedule. */
  readonly totalSteps?: number;
  /** The step's rollout run id (`step_NNNN`). */
  readonly runId: string;
  readonly expected: number;
  readonly key: string;
  readonly samples: readonly Sample[];
  /** The step line's record of the role before the update. */
  readonly base: RoleStep;
  /** Called with each progress line of the trainer, as it arrives. */
  readonly onProgress?: (
    line: Extract<TrainLine, { type: "progress" }>,
  ) => void;
}

/**
 * Sends one role's samples to `/v1/train` and returns its step record. A batch whose rewards are all
 * equal trains on the KL term (the trainer's `kl_only` metric); one the trainer finds nothing to train
 * in (`no_signal`: every sample masked) is recorded as skipped; samples the trainer refuses by id (`stale_samples`, `invalid_tokens`) are
 * dropped, counted as masked `refused`, and the rest sent once more; any other refusal throws a
 * {@linkcode TrainerError} naming the step, the role and its rollout run.
 *
 * @example
 * ```ts ignore
 * const record = await trainRole(client, { role: "solver", step: 3, runId: "step_0003", expected: 2, key, samples, base });
 * ```
 */
export async function trainRole(
  client: TrainerClient,
  update: RoleUpdate,
): Promise<RoleStep> {
  let samples = [...update.samples];
  let record: RoleStep = update.base;
  if (samples.length === 0) return { ...record, skipped: "no_samples" };
  for (let attempt = 0;; attempt++) {
    try {
      const done = await client.train({
        policy_id: update.policyId,
        expected_version: update.expected,
        idempotency_key: attempt === 0
          ? update.key
          : `${update.key}:retry${attempt}`,
        // The schedule follows the training step, not the policy version: a step the role skipped
        // (no samples) still moves it on, so a cosine schedule ends at its floor on the last step.
        step: update.step - 1,
        ...(update.totalSteps !== undefined
          ? { total_steps: update.totalSteps }
          : {}),
        samples,
      }, update.onProgress);
      return { ...record, version: done.new_version, train: done.metrics };
    } catch (e) {
      if (!(e instanceof TrainerError)) throw e;
      if (e.code === "no_signal") return { ...record, skipped: "no_signal" };
      const ids = (e.body as { sample_ids?: unknown } | undefined)?.sample_ids;
      const refused = new Set(Array.isArray(ids) ? ids.map(String) : []);
      const kept = samples.filter((s) => !refused.has(s.sample_id));
      if (
        attempt === 0 && refused.size > 0 && kept.length < samples.length &&
        (e.code === "stale_samples" || e.code === "invalid_tokens")
      ) {
        record = {
          ...record,
          samples: kept.length,
          masked: {
            ...record.masked,
            refused: (record.masked.refused ?? 0) + samples.length -
              kept.length,
          },
        };
        samples = kept;
        if (samples.length === 0) return { ...record, skipped: "no_samples" };
        continue;
      }
      throw new TrainerError(
        `Cannot train role "${update.role}" at step ${update.step} (rollouts in steps/${update.runId}): ${e.message}`,
        e.code,
        e.status,
        e.body,
      );
    }
  }
}
