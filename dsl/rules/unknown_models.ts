import { didYouMean } from "../_levenshtein.ts";
import { outcomeJudgeUses } from "../outcome_judges.ts";
import type { RuleContext } from "../rule_context.ts";

/** Every `model` of a role, of the coach and of an `llm_judge` outcome names a key of `models`. See README.md#models. */
export function unknownModels(ctx: RuleContext): void {
  const names = Object.keys(ctx.spec.models);
  const check = (name: string, path: (string | number)[], where: string) => {
    if (Object.hasOwn(ctx.spec.models, name)) return;
    ctx.report({
      code: "unknown_model",
      path,
      message:
        `Cannot resolve model "${name}" of ${where}: no model has that name`,
      hint: didYouMean(name, names, "model") ??
        `add it under models: ${name}: { model: ..., base_url: ... }`,
    });
  };
  ctx.spec.roles.forEach((r, i) =>
    check(r.model, ["roles", i, "model"], `role "${r.id}"`)
  );
  if (ctx.spec.coach) {
    check(ctx.spec.coach.model, ["coach", "model"], "the coach");
  }
  for (const { judge, path } of outcomeJudgeUses(ctx.spec.outcome)) {
    check(
      judge.params.model,
      [...path, "params", "model"],
      "the outcome judge",
    );
  }
}
