import type { RuleContext } from "../rule_context.ts";

/** A rubric's scale is non-empty, and every cap, floor and band score lies on it. See README.md#coach. */
export function scoresInScale(ctx: RuleContext): void {
  for (const use of ctx.rubricUses) {
    const { min, max } = use.rubric.scale;
    if (!(min < max)) {
      ctx.report({
        code: "score_out_of_scale",
        path: [...use.path, "scale"],
        message:
          `Cannot use scale ${min}..${max} of rubric "${use.rubric.name}": min must be below max`,
        hint: "the usual scale is { min: 0, max: 10 }",
      });
      continue;
    }
    const check = (
      value: number | undefined,
      path: (string | number)[],
      what: string,
    ) => {
      if (value === undefined || (value >= min && value <= max)) return;
      ctx.report({
        code: "score_out_of_scale",
        path,
        message:
          `Cannot apply ${what} ${value}: it lies outside the rubric scale ${min}..${max}`,
        hint: `use a score between ${min} and ${max}`,
      });
    };
    use.rubric.checks.forEach((c, i) => {
      check(
        c.cap,
        [...use.path, "checks", i, "cap"],
        `the cap of check "${c.id}"`,
      );
      check(
        c.floor,
        [...use.path, "checks", i, "floor"],
        `the floor of check "${c.id}"`,
      );
    });
    use.rubric.caps.forEach((c, i) =>
      c.bands.forEach((b, j) =>
        check(
          b.max_score,
          [...use.path, "caps", i, "bands", j, "max_score"],
          `the max_score of cap "${c.id}"`,
        )
      )
    );
  }
}
