import { didYouMean } from "../_levenshtein.ts";
import type { RuleContext } from "../rule_context.ts";

/** Every tool a role lists is declared under `tools`. See README.md#tools. */
export function unknownTools(ctx: RuleContext): void {
  const names = Object.keys(ctx.spec.tools);
  ctx.spec.roles.forEach((role, i) => {
    role.tools.forEach((t, j) => {
      if (Object.hasOwn(ctx.spec.tools, t)) return;
      ctx.report({
        code: "unknown_tool",
        path: ["roles", i, "tools", j],
        message:
          `Cannot resolve tool "${t}" of role "${role.id}": no tool has that name`,
        hint: didYouMean(t, names, "tool") ??
          `declare it under tools: ${t}: { language: python }`,
      });
    });
  });
}
