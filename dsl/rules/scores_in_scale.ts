import { successConditions } from "../grader_metrics.ts";
import { outcomeJudgeUses } from "../outcome_judges.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * A rubric's scale is non-empty, every cap, floor and band score lies on it, and no check caps below its
 * own floor. The same for an `llm_judge` outcome: its scale is non-empty, and a success condition on its
 * `score` (or `normalized_score`, 0 to 1) lies on it. See README.md#coach.
 */
export function scoresInScale(ctx: RuleContext): void {
  outcomeJudgeScales(ctx);
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
    if (
      use.rubric.template === undefined &&
      use.rubric.default_score === undefined
    ) {
      ctx.report({
        code: "missing_key",
        path: use.path,
        message:
          `Cannot score with rubric "${use.rubric.name}": it has neither a template (an LLM judge) nor a default_score (a deterministic coach)`,
        hint:
          "add template: | ... for a judge, or default_score: 10 to score by checks and caps alone",
      });
    }
    check(
      use.rubric.default_score,
      [...use.path, "default_score"],
      `the default_score of rubric "${use.rubric.name}"`,
    );
    use.rubric.checks.forEach((c, i) => {
      if (c.cap !== undefined && c.floor !== undefined && c.cap < c.floor) {
        ctx.report({
          code: "score_out_of_scale",
          path: [...use.path, "checks", i, "cap"],
          message:
            `Cannot apply check "${c.id}": its cap ${c.cap} is below its floor ${c.floor}`,
          hint:
            "a check caps or floors the score; if it does both, the cap must be at least the floor",
        });
      }
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

function outcomeJudgeScales(ctx: RuleContext): void {
  const conditions = successConditions(ctx.spec.outcome);
  for (const { judge, path } of outcomeJudgeUses(ctx.spec.outcome)) {
    const rubric = judge.params.rubric;
    const { min, max } = typeof rubric === "string"
      ? { min: 0, max: 10 }
      : rubric.scale;
    if (!(min < max)) {
      ctx.report({
        code: "score_out_of_scale",
        path: [...path, "params", "rubric", "scale"],
        message:
          `Cannot use scale ${min}..${max} of the outcome judge's rubric: min must be below max`,
        hint: "the usual scale is { min: 0, max: 10 }",
      });
      continue;
    }
    // A composite's component reports its metrics as <id>.<metric>.
    const prefix = path.length > 1 ? `${String(path.at(-1))}.` : "";
    const scales: Record<string, [number, number]> = {
      [`${prefix}score`]: [min, max],
      [`${prefix}normalized_score`]: [0, 1],
    };
    for (const c of conditions) {
      const range = scales[c.metric];
      if (!range) continue;
      for (const bound of ["at_least", "at_most"] as const) {
        const v = c[bound];
        if (v === undefined || (v >= range[0] && v <= range[1])) continue;
        ctx.report({
          code: "score_out_of_scale",
          path: [...c.path, bound],
          message:
            `Cannot apply ${bound} ${v} to "${c.metric}": the outcome judge gives it from ${
              range[0]
            } to ${range[1]}`,
          hint: `use a value between ${range[0]} and ${range[1]}`,
        });
      }
    }
  }
}
