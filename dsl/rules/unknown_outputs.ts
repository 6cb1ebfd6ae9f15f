import { didYouMean } from "../_levenshtein.ts";
import { answerUses } from "../grader_metrics.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * `<role>.<output>` references (the outcome's answer, a loop's `until`) name an output the role declares
 * under `outputs`. See README.md#outputs.
 */
export function unknownOutputs(ctx: RuleContext): void {
  const check = (ref: string, path: (string | number)[], where: string) => {
    const dot = ref.indexOf(".");
    if (dot <= 0 || dot === ref.length - 1) {
      ctx.report({
        code: "unknown_output",
        path,
        message:
          `Cannot resolve output "${ref}" in ${where}: expected <role>.<output>`,
        hint:
          "write it as role id, a dot, and an output name, e.g. verifier.answer",
      });
      return;
    }
    const roleId = ref.slice(0, dot), name = ref.slice(dot + 1);
    const role = ctx.roleById.get(roleId);
    if (!role || Object.hasOwn(role.outputs, name)) return; // unknown roles are unknown_role's
    const names = Object.keys(role.outputs);
    ctx.report({
      code: "unknown_output",
      path,
      message:
        `Cannot resolve output "${ref}" in ${where}: role "${roleId}" declares no output "${name}"`,
      hint: didYouMean(name, names, "output") ??
        `declare it on role "${roleId}": outputs: { ${name}: { extract: last_boxed } }`,
      related: [{
        path: ["roles", ctx.roleIndex.get(roleId)!, "outputs"],
        message: `role "${roleId}" is declared here`,
      }],
    });
  };
  const outcome = ctx.spec.outcome;
  for (const a of answerUses(outcome)) {
    check(
      a.ref,
      a.path,
      a.name === null ? "outcome.params.answer" : `answer "${a.name}"`,
    );
  }
  ctx.spec.flow.loops.forEach((loop, i) => {
    if (loop.until) {
      check(
        loop.until.output,
        ["flow", "loops", i, "until", "output"],
        `the until of loop "${loop.id}"`,
      );
    }
  });
}
