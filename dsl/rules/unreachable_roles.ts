import type { RuleContext } from "../rule_context.ts";

/**
 * Every role runs in an episode: it is reachable from an entry role (`flow.entry`, default every role
 * without `after`) along `after` edges. See README.md#flow.
 */
export function unreachableRoles(ctx: RuleContext): void {
  const roles = ctx.spec.roles;
  const entry = ctx.spec.flow.entry ??
    roles.filter((r) => r.after.length === 0).map((r) => r.id);
  const children = new Map<string, string[]>();
  for (const r of roles) {
    for (const a of r.after) {
      children.set(a, [...(children.get(a) ?? []), r.id]);
    }
  }
  const reached = new Set<string>();
  const queue = entry.filter((e) => ctx.roleById.has(e));
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (reached.has(id)) continue;
    reached.add(id);
    queue.push(...(children.get(id) ?? []));
  }
  // Roles on or below a cycle are reported by flow_cycle, below an unknown `after` id by unknown_role.
  const reported = (id: string) =>
    [id, ...ctx.ancestors(id)].some((a) =>
      ctx.ancestors(a).has(a) ||
      ctx.roleById.get(a)!.after.some((x) => !ctx.roleById.has(x))
    );
  roles.forEach((role, i) => {
    if (reached.has(role.id) || reported(role.id)) return;
    const declared = ctx.spec.flow.entry !== undefined;
    ctx.report({
      code: "unreachable_role",
      path: ["roles", i, "id"],
      message:
        `Cannot reach role "${role.id}" from the entry roles: no path of "after" edges leads to it`,
      hint: declared && role.after.length === 0
        ? `add "${role.id}" to flow.entry, or give it an "after" list`
        : `check its "after" list; entry roles are ${
          entry.map((e) => `"${e}"`).join(", ") || "none"
        }`,
    });
  });
}
