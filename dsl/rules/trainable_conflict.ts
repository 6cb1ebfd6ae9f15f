import type { RuleContext } from "../rule_context.ts";

/**
 * `train.roles` lists only trainable roles, and a spec with `train` has at least one role to train.
 * See README.md#train.
 */
export function trainableConflict(ctx: RuleContext): void {
  const train = ctx.spec.train;
  if (!train) return;
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
