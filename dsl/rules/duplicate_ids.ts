import type { RuleContext } from "../rule_context.ts";

type Path = readonly (string | number)[];

/**
 * Ids are unique where they name things (roles, loops, a rubric's checks and caps), and lists of role
 * references (`flow.entry`, `coach.roles`, `train.roles`) name each role once. Reported at the second
 * occurrence, with the first as related. See README.md#roles.
 */
export function duplicateIds(ctx: RuleContext): void {
  const declared = (
    items: readonly { id: string }[],
    base: Path,
    noun: string,
  ) => {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const prev = first.get(item.id);
      if (prev === undefined) {
        first.set(item.id, i);
        return;
      }
      ctx.report({
        code: "duplicate_id",
        path: [...base, i, "id"],
        message:
          `Cannot declare ${noun} "${item.id}" twice: ids must be unique`,
        related: [{
          path: [...base, prev, "id"],
          message: `${noun} "${item.id}" is first declared here`,
        }],
        hint:
          `rename one of them; to change an inherited ${noun}, keep the id and set only the keys that differ`,
      });
    });
  };
  const listed = (
    items: readonly string[] | undefined,
    base: Path,
    where: string,
  ) => {
    const first = new Map<string, number>();
    items?.forEach((id, i) => {
      const prev = first.get(id);
      if (prev === undefined) {
        first.set(id, i);
        return;
      }
      ctx.report({
        code: "duplicate_id",
        path: [...base, i],
        message: `Cannot list role "${id}" twice in ${where}`,
        related: [{
          path: [...base, prev],
          message: `role "${id}" is first listed here`,
        }],
        hint: "remove the repeated entry",
      });
    });
  };
  declared(ctx.spec.roles, ["roles"], "role");
  declared(ctx.spec.flow.loops, ["flow", "loops"], "loop");
  listed(ctx.spec.flow.entry, ["flow", "entry"], "flow.entry");
  ctx.spec.flow.loops.forEach((l, i) =>
    listed(l.roles, ["flow", "loops", i, "roles"], `loop "${l.id}"`)
  );
  listed(ctx.spec.coach?.roles, ["coach", "roles"], "coach.roles");
  listed(ctx.spec.train?.roles, ["train", "roles"], "train.roles");
  for (const use of ctx.rubricUses) {
    declared(
      use.rubric.checks,
      [...use.path, "checks"],
      `check of rubric "${use.rubric.name}"`,
    );
    declared(
      use.rubric.caps,
      [...use.path, "caps"],
      `cap of rubric "${use.rubric.name}"`,
    );
  }
}
