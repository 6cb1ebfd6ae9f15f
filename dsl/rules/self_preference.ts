import { outcomeJudgeUses } from "../outcome_judges.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * Warns when the coach judges a role served by the same model (or declared family): judges favour their
 * own generations (Panickssery et al., arXiv:2404.13076; reference/judges-and-specs.md §6.1). Roles
 * scored by a deterministic rubric (no template) are left out: no model judges them. An `llm_judge`
 * outcome is checked the same way against the roles whose answers it judges.
 */
export function selfPreference(ctx: RuleContext): void {
  outcomeJudgeSelfPreference(ctx);
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

/** The same for an `llm_judge` outcome: a judge served by the model (or family) of a role whose answer it judges. */
function outcomeJudgeSelfPreference(ctx: RuleContext): void {
  for (const { judge, path } of outcomeJudgeUses(ctx.spec.outcome)) {
    const model = ctx.spec.models[judge.params.model];
    if (!model || model.provider === "scripted") continue;
    const answer = judge.params.answer;
    const refs = typeof answer === "string" ? [answer] : Object.values(answer);
    const roles = new Set(refs.map((r) => r.slice(0, r.indexOf("."))));
    const same = ctx.spec.roles.filter((r) => {
      const m = ctx.spec.models[r.model];
      if (!roles.has(r.id) || !m || m.provider === "scripted") return false;
      return r.model === judge.params.model || m.model === model.model ||
        (m.family !== undefined && m.family === model.family);
    });
    if (same.length === 0) continue;
    ctx.report({
      code: "self_preference",
      severity: "warning",
      path: [...path, "params", "model"],
      message:
        `Cannot rule out self-preference: the outcome judge "${judge.params.model}" also serves role${
          same.length > 1 ? "s" : ""
        } ${same.map((r) => `"${r.id}"`).join(", ")}, whose answer it judges`,
      hint:
        "judges favour their own generations; judge the outcome with a model from another family",
    });
  }
}
