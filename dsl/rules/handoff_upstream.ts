import type { RuleContext } from "../rule_context.ts";

/**
 * A role can only be shown (`sees`) roles that ran before it: its ancestors along `after`, or a peer of
 * its loop group (the previous round). See README.md#handoffs.
 */
export function handoffUpstream(ctx: RuleContext): void {
  ctx.spec.roles.forEach((role, i) => {
    if (!role.sees) return;
    const visible = ctx.visibleUpstream(role.id);
    for (const key of Object.keys(role.sees)) {
      if (!ctx.roleById.has(key) || visible.has(key)) continue;
      ctx.report({
        code: "handoff_not_upstream",
        path: ["roles", i, "sees", key],
        onKey: true,
        message: key === role.id
          ? `Cannot show role "${role.id}" its own work through sees: its history is already in its context`
          : `Cannot show role "${key}" to role "${role.id}": "${key}" is not upstream of it`,
        hint: key === role.id
          ? `remove sees.${key}`
          : ctx.ancestors(key).has(role.id)
          ? `"${key}" runs after "${role.id}", so it cannot be shown to it; remove sees.${key}`
          : `add "${key}" to the after list of "${role.id}" (directly or through another role)`,
      });
    }
  });
}
