import type { RuleContext } from "../rule_context.ts";

/**
 * A metric cap reads outcome facts, so every role it applies to must allow them (`coach_sees_outcome`).
 * See README.md#coach.
 */
export function capsNeedOutcome(ctx: RuleContext): void {
  for (const use of ctx.rubricUses) {
    use.rubric.caps.forEach((cap, i) => {
      const roles = cap.roles
        ? use.roles.filter((r) => cap.roles!.includes(r.id))
        : use.roles;
      // Roles re-judged with the outcome (coach.rejudge_with_outcome) see it in their second verdict.
      const hidden = ctx.spec.coach?.rejudge_with_outcome
        ? []
        : roles.filter((r) => !r.coach_sees_outcome);
      if (hidden.length === 0) return;
      ctx.report({
        code: "outcome_not_visible",
        path: [...use.path, "caps", i, "metric"],
        message: `Cannot apply cap "${cap.id}" to role${
          hidden.length > 1 ? "s" : ""
        } ${
          hidden.map((r) => `"${r.id}"`).join(", ")
        }: it reads the outcome metric "${cap.metric}", which their coach may not see`,
        hint:
          "set coach_sees_outcome: true on those roles, or list only allowed roles under the cap's roles",
      });
    });
  }
}
