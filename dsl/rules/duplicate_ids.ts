import type { RuleContext } from "../rule_context.ts";

/**
 * Role ids and loop ids are unique. Reported at the second declaration, with the first as related.
 * See README.md#roles.
 */
export function duplicateIds(ctx: RuleContext): void {
  const check = (
    items: readonly { id: string }[],
    base: string,
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
        path: [base, ...(base === "flow" ? ["loops"] : []), i, "id"],
        message:
          `Cannot declare ${noun} "${item.id}" twice: ids must be unique`,
        related: [{
          path: [base, ...(base === "flow" ? ["loops"] : []), prev, "id"],
          message: `${noun} "${item.id}" is first declared here`,
        }],
        hint:
          `rename one of them; to change an inherited ${noun}, keep the id and set only the keys that differ`,
      });
    });
  };
  check(ctx.spec.roles, "roles", "role");
  check(ctx.spec.flow.loops, "flow", "loop");
}
