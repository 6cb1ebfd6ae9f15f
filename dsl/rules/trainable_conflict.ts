import type { RuleContext } from "../rule_context.ts";

/**
 * `train.roles` lists only trainable roles, a spec with `train` has at least one role to train, and a
 * group baseline has at least two samples per task to compare. See README.md#train.
 */
export function trainableConflict(ctx: RuleContext): void {
  const train = ctx.spec.train;
  if (!train) return;
  if (
    train.hyperparameters.baseline === "group" && train.samples_per_task < 2
  ) {
    ctx.report({
      code: "invalid_value",
      path: ["train", "hyperparameters", "baseline"],
      message:
        `Cannot use baseline: group with samples_per_task ${train.samples_per_task}: the group baseline is the mean reward of a task's samples, so each task needs at least 2`,
      hint: "set train.samples_per_task: 2 (or more), or baseline: none",
    });
  }
  if (train.roles) {
    train.roles.forEach((id, j) => {
      const role = ctx.roleById.get(id);
      if (!role || role.trainable) return;
      ctx.report({
        code: "trainable_conflict",
        path: ["train", "roles", j],
        message: `Cannot train role "${id}": it is declared trainable: false`,
        related: [{
          path: ["roles", ctx.roleIndex.get(id)!, "trainable"],
          message: `role "${id}" is marked untrainable here`,
        }],
        hint: `remove it from train.roles, or set trainable: true on the role`,
      });
    });
  } else if (!ctx.spec.roles.some((r) => r.trainable)) {
    ctx.report({
      code: "trainable_conflict",
      path: ["train"],
      message:
        "Cannot train this pipeline: every role is declared trainable: false",
      hint:
        "set trainable: true on the roles to train, or remove the train section",
    });
  }
}
