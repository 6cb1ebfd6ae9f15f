import type { RuleContext } from "../rule_context.ts";

/**
 * Every band of a metric cap can apply: a band with no bound catches every value, so it must come last,
 * and a band's `at_least` lies below its `below`. See README.md#coach.
 */
export function capBands(ctx: RuleContext): void {
  for (const use of ctx.rubricUses) {
    use.rubric.caps.forEach((cap, i) => {
      const catchAll = cap.bands.findIndex((b) =>
        b.at_least === undefined && b.below === undefined
      );
      if (catchAll >= 0 && catchAll < cap.bands.length - 1) {
        ctx.report({
          code: "invalid_value",
          path: [...use.path, "caps", i, "bands", catchAll + 1],
          message: `Cannot reach band ${
            catchAll + 2
          } of cap "${cap.id}": band ${
            catchAll + 1
          } has no bound and matches every value first`,
          hint: "move the band without at_least or below to the end",
        });
      }
      cap.bands.forEach((b, j) => {
        if (
          b.at_least === undefined || b.below === undefined ||
          b.at_least < b.below
        ) return;
        ctx.report({
          code: "invalid_value",
          path: [...use.path, "caps", i, "bands", j],
          message: `Cannot match any value with band ${
            j + 1
          } of cap "${cap.id}": at_least ${b.at_least} is not below ${b.below}`,
          hint: "a band matches at_least <= metric < below",
        });
      });
    });
  }
}
