import type { RuleContext } from "../rule_context.ts";

/**
 * Warns when the coach judges a role served by the same model (or declared family): judges favour their
 * own generations (Panickssery et al., arXiv:2404.13076; reference/judges-and-specs.md §6.1). Roles
 * scored by a deterministic rubric (no template) are left out: no model judges them.
 */
export function selfPreference(ctx: RuleContext): void {
  const coach = ctx.spec.coach;
  if (!coach) return;
  const judge = ctx.spec.models[coach.model];
  if (!judge || judge.provider === "scripted") return;
  // A rubric without a template is a deterministic coach: no model judges, so none can favour itself.
  const judged = (role: string) =>
    (coach.rubrics[role] ?? coach.rubric).template !== undefined;
  const same = ctx.coachedRoles.filter((r) => {
    if (!judged(r.id)) return false;
    const m = ctx.spec.models[r.model];
    if (!m || m.provider === "scripted") return false;
    return r.model === coach.model || m.model === judge.model ||
      (m.family !== undefined && m.family === judge.family);
  });
  if (same.length === 0) return;
  ctx.report({
    code: "self_preference",
    severity: "warning",
    path: ["coach", "model"],
    message:
      `Cannot rule out self-preference: the coach model "${coach.model}" also serves role${
        same.length > 1 ? "s" : ""
      } ${same.map((r) => `"${r.id}"`).join(", ")}`,
    hint:
      "judges favour their own generations; use a coach from another model family",
  });
}
