import type { RuleContext } from "../rule_context.ts";

/**
 * A loop group can repeat as a unit: each role belongs to at most one loop, no role outside a loop runs
 * between two of its members (downstream of one and upstream of another), and `until` reads a member's
 * output. See README.md#flow.
 */
export function validLoops(ctx: RuleContext): void {
  const owner = new Map<string, { loop: string; path: (string | number)[] }>();
  ctx.spec.flow.loops.forEach((loop, i) => {
    loop.roles.forEach((id, j) => {
      const path = ["flow", "loops", i, "roles", j];
      const first = owner.get(id);
      if (first) {
        ctx.report({
          code: "invalid_loop",
          path,
          message:
            `Cannot put role "${id}" in loop "${loop.id}": it already belongs to loop "${first.loop}"`,
          related: [{
            path: first.path,
            message: `role "${id}" joins loop "${first.loop}" here`,
          }],
          hint:
            "a role repeats with one loop group; merge the two loops or remove it from one",
        });
      } else owner.set(id, { loop: loop.id, path });
    });
    const members = new Set(loop.roles.filter((r) => ctx.roleById.has(r)));
    const untilRole = loop.until?.output.split(".")[0];
    if (
      untilRole !== undefined && ctx.roleById.has(untilRole) &&
      !members.has(untilRole)
    ) {
      ctx.report({
        code: "invalid_loop",
        path: ["flow", "loops", i, "until", "output"],
        message:
          `Cannot stop loop "${loop.id}" on role "${untilRole}": it is not in the loop, so its output does not change between rounds`,
        hint: `name an output of one of ${
          loop.roles.map((r) => `"${r}"`).join(", ")
        }`,
      });
    }
    for (const m of members) {
      for (const a of ctx.ancestors(m)) {
        if (members.has(a) || a === m) continue;
        const below = [...ctx.ancestors(a)].find((x) => members.has(x));
        if (below === undefined) continue;
        ctx.report({
          code: "invalid_loop",
          path: ["flow", "loops", i, "roles"],
          message:
            `Cannot repeat loop "${loop.id}" as a unit: role "${a}" runs after member "${below}" and before member "${m}" but is not in the loop`,
          hint: `add "${a}" to the loop's roles, or change the after edges`,
        });
        return;
      }
    }
  });
}
