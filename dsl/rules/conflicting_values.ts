import { successConditions } from "../grader_metrics.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * Values that each pass the schema but contradict each other: `min_tokens` above `max_tokens`, a success
 * rule whose `at_least` is above its `at_most` (no episode could succeed), a `flow.entry` role that runs
 * `after` another, a split that excludes its overlap with itself (it would drop every row). See
 * README.md#flow and README.md#dataset.
 */
export function conflictingValues(ctx: RuleContext): void {
  for (const [name, model] of Object.entries(ctx.spec.models)) {
    const { min_tokens: min, max_tokens: max } = model.sampling;
    if (min !== undefined && max !== undefined && min > max) {
      ctx.report({
        code: "conflicting_values",
        path: ["models", name, "sampling", "min_tokens"],
        message:
          `Cannot generate at least ${min} and at most ${max} tokens: min_tokens is above max_tokens`,
        related: [{
          path: ["models", name, "sampling", "max_tokens"],
          message: `max_tokens is ${max} here`,
        }],
        hint: "lower min_tokens or raise max_tokens",
      });
    }
  }
  for (const c of successConditions(ctx.spec.outcome)) {
    if (
      c.at_least === undefined || c.at_most === undefined ||
      c.at_least <= c.at_most
    ) continue;
    ctx.report({
      code: "conflicting_values",
      path: [...c.path, "at_least"],
      message:
        `Cannot succeed with ${c.metric} at least ${c.at_least} and at most ${c.at_most}: no value is both`,
      related: [{
        path: [...c.path, "at_most"],
        message: `at_most is ${c.at_most} here`,
      }],
      hint: "swap the two bounds, or drop one of them",
    });
  }
  const success = ctx.spec.outcome?.success;
  if (
    success && "at_least_k" in success &&
    success.at_least_k > success.of.length
  ) {
    ctx.report({
      code: "conflicting_values",
      path: ["outcome", "success", "at_least_k"],
      message:
        `Cannot succeed when ${success.at_least_k} conditions must hold: only ${success.of.length} are listed under of`,
      hint:
        `lower at_least_k to at most ${success.of.length}, or list more conditions`,
    });
  }
  ctx.spec.flow.entry?.forEach((id, i) => {
    const role = ctx.roleById.get(id);
    if (!role || role.after.length === 0) return;
    const j = ctx.roleIndex.get(id)!;
    ctx.report({
      code: "conflicting_values",
      path: ["flow", "entry", i],
      message: `Cannot start an episode with role "${id}": it runs after ${
        role.after.map((a) => `"${a}"`).join(", ")
      }`,
      related: [{
        path: ["roles", j, "after"],
        message: `role "${id}" waits for these roles`,
      }],
      hint: `remove "${id}" from flow.entry, or its after list`,
    });
  });
  for (const [name, split] of Object.entries(ctx.spec.dataset.splits)) {
    if (typeof split === "string") continue;
    split.exclude_overlap_with.forEach((other, j) => {
      if (other !== name) return;
      ctx.report({
        code: "conflicting_values",
        path: ["dataset", "splits", name, "exclude_overlap_with", j],
        message:
          `Cannot exclude split "${name}"'s overlap with itself: every row would be dropped`,
        hint:
          "name another split, e.g. the train split an eval split must not share rows with",
      });
    });
  }
}
