import { globsOverlap, isGlob } from "../glob.ts";
import { outcomeParts } from "../grader_metrics.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * Every file a role consumes is provided by the task (`dataset.files`) or produced by a role upstream of
 * it (or by a loop peer in an earlier round). Globs match on either side. See README.md#file-contracts.
 */
export function unproducedInputs(ctx: RuleContext): void {
  const literal = new Map<string, string[]>(); // produced path -> role ids
  const globs: { pattern: string; role: string }[] = [];
  for (const role of ctx.spec.roles) {
    for (const p of role.produces) {
      const path = typeof p === "string" ? p : p.path;
      if (isGlob(path)) globs.push({ pattern: path, role: role.id });
      else literal.set(path, [...(literal.get(path) ?? []), role.id]);
    }
  }
  const taskFiles = ctx.spec.dataset.files.map((f) => f.as);
  const producers = (pattern: string): string[] => {
    const out = new Set<string>();
    if (isGlob(pattern)) {
      for (const [path, roles] of literal) {
        if (globsOverlap(pattern, path)) roles.forEach((r) => out.add(r));
      }
    } else literal.get(pattern)?.forEach((r) => out.add(r));
    for (const g of globs) {
      if (globsOverlap(g.pattern, pattern)) out.add(g.role);
    }
    return [...out];
  };
  ctx.spec.roles.forEach((role, i) => {
    if (role.consumes.length === 0) return;
    const visible = ctx.visibleUpstream(role.id);
    role.consumes.forEach((pattern, j) => {
      if (taskFiles.some((t) => globsOverlap(pattern, t))) return;
      const all = producers(pattern).filter((r) => r !== role.id);
      if (all.some((r) => visible.has(r))) return;
      const elsewhere = all[0];
      ctx.report({
        code: "unproduced_input",
        path: ["roles", i, "consumes", j],
        message:
          `Cannot resolve input "${pattern}" of role "${role.id}": no upstream role produces it and no task file provides it`,
        ...(elsewhere !== undefined
          ? {
            related: [{
              path: ["roles", ctx.roleIndex.get(elsewhere)!, "produces"],
              message:
                `role "${elsewhere}" produces "${pattern}" but is not upstream of "${role.id}"`,
            }],
            hint: `declare role "${role.id}" after: [${elsewhere}]`,
          }
          : {
            hint:
              "add it to the produces of an upstream role, or to dataset.files",
          }),
      });
    });
  });
  for (const part of outcomeParts(ctx.spec.outcome)) {
    const outcome = part.decl;
    if (outcome.grader !== "tabular_metric") continue;
    const submission = outcome.params.submission;
    if (
      producers(submission).length === 0 &&
      !taskFiles.some((t) => globsOverlap(submission, t))
    ) {
      ctx.report({
        code: "unproduced_input",
        path: [...part.path, "params", "submission"],
        message: `Cannot grade file "${submission}": no role produces it`,
        hint: "add it to the produces of the role that writes it",
      });
    }
  }
}
