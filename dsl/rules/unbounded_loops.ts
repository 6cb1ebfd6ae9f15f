import type { RuleContext } from "../rule_context.ts";

/**
 * A loop group declares `max_rounds`, so an episode always ends, even with an `until` condition.
 * See README.md#flow.
 */
export function unboundedLoops(ctx: RuleContext): void {
  ctx.spec.flow.loops.forEach((loop, i) => {
    if (loop.max_rounds !== undefined) return;
    ctx.report({
      code: "unbounded_loop",
      path: ["flow", "loops", i],
      message:
        `Cannot run loop "${loop.id}" without a bound: it has no max_rounds`,
      hint: loop.until
        ? "add max_rounds: an until condition alone may never hold"
        : "add max_rounds: 3 (or the number of rounds you want)",
    });
  });
}
