import { didYouMean } from "../_levenshtein.ts";
import type { RuleContext } from "../rule_context.ts";
import { answerUses } from "../grader_metrics.ts";

type Path = (string | number)[];

/**
 * Every role reference names a declared role: `after`, `sees`, `flow.entry`, loop members and conditions,
 * coach roles and per-role rubrics, check and cap roles, outcome answers, `train.roles`. See README.md#roles.
 */
export function unknownRoles(ctx: RuleContext): void {
  const ids = [...ctx.roleById.keys()];
  const check = (id: string, path: Path, where: string, onKey = false) => {
    if (ctx.roleById.has(id)) return;
    ctx.report({
      code: "unknown_role",
      path,
      onKey,
      message: `Cannot resolve role "${id}" in ${where}: no role has that id`,
      hint: didYouMean(id, ids, "role id") ?? `declare a role with id: ${id}`,
    });
  };
  const spec = ctx.spec;
  spec.roles.forEach((role, i) => {
    role.after.forEach((a, j) =>
      check(
        a,
        ["roles", i, "after", j],
        `the "after" list of role "${role.id}"`,
      )
    );
    for (const key of Object.keys(role.sees ?? {})) {
      check(
        key,
        ["roles", i, "sees", key],
        `the "sees" of role "${role.id}"`,
        true,
      );
    }
  });
  spec.flow.entry?.forEach((r, j) =>
    check(r, ["flow", "entry", j], "flow.entry")
  );
  spec.flow.loops.forEach((loop, i) => {
    loop.roles.forEach((r, j) =>
      check(r, ["flow", "loops", i, "roles", j], `loop "${loop.id}"`)
    );
    const ref = loop.until?.output.split(".")[0];
    if (ref !== undefined && ref !== "") {
      check(
        ref,
        ["flow", "loops", i, "until", "output"],
        `the "until" of loop "${loop.id}"`,
      );
    }
  });
  const coach = spec.coach;
  if (coach) {
    coach.roles?.forEach((r, j) =>
      check(r, ["coach", "roles", j], "coach.roles")
    );
    for (const key of Object.keys(coach.rubrics)) {
      check(key, ["coach", "rubrics", key], "coach.rubrics", true);
    }
    const rubrics: [Path, typeof coach.rubric][] = [[
      ["coach", "rubric"],
      coach.rubric,
    ]];
    for (const [k, r] of Object.entries(coach.rubrics)) {
      rubrics.push([["coach", "rubrics", k], r]);
    }
    for (const [base, rubric] of rubrics) {
      rubric.checks.forEach((c, i) =>
        c.roles?.forEach((r, j) =>
          check(r, [...base, "checks", i, "roles", j], `check "${c.id}"`)
        )
      );
      rubric.caps.forEach((c, i) =>
        c.roles?.forEach((r, j) =>
          check(r, [...base, "caps", i, "roles", j], `cap "${c.id}"`)
        )
      );
    }
  }
  const outcome = spec.outcome;
  for (const a of answerUses(outcome)) {
    check(
      a.ref.split(".")[0]!,
      a.path,
      a.name === null ? "outcome.params.answer" : `answer "${a.name}"`,
    );
  }
  spec.train?.roles?.forEach((r, j) =>
    check(r, ["train", "roles", j], "train.roles")
  );
}
