import type { LocalTrainer } from "./local_trainer.ts";
import { mean, type RoleStep } from "./metrics.ts";
import type { TrainLine } from "./protocol.ts";
import type { RoleSamples } from "./samples.ts";
import type { TrainerClient } from "./trainer_client.ts";
import { trainRole } from "./train_role.ts";
import type { TrainRun } from "./train_run.ts";

/**
 * Sends each trained role's samples of a step to its policy on the trainer (one update per role) and
 * moves `versions` to the versions the trainer returns; returns each role's step metrics.
 */
export async function updatePolicies(
  client: TrainerClient,
  built: Readonly<Record<string, RoleSamples>>,
  ctx: {
    readonly run: TrainRun;
    readonly step: number;
    /** The step's rollout run id (`step_NNNN`). */
    readonly runId: string;
    readonly versions: Record<string, number>;
    readonly policyOf: (role: string) => string;
    readonly local: LocalTrainer | undefined;
    readonly onTrainProgress?:
      | ((role: string, line: Extract<TrainLine, { type: "progress" }>) => void)
      | undefined;
  },
): Promise<Record<string, RoleStep>> {
  const { run, step, runId, versions, local } = ctx;
  const roles: Record<string, RoleStep> = {};
  for (const role of run.train.roles) {
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
    const onTrainProgress = ctx.onTrainProgress;
    roles[role] = await trainRole(client, {
      role,
      policyId: ctx.policyOf(role),
      step,
      totalSteps: run.train.steps,
      runId,
      expected: before,
      key: `${run.id}:${runId}:${role}:${run.session}`,
      samples: b.samples,
      base,
      ...(onTrainProgress
        ? {
          onProgress: (line: Extract<TrainLine, { type: "progress" }>) =>
            onTrainProgress(role, line),
        }
        : {}),
    });
    versions[role] = roles[role]!.version;
  }
  return roles;
}
