import type { RuleContext } from "../rule_context.ts";

/**
 * `after` edges form a DAG. Each cycle is reported once, at the edge that closes it, with the whole cycle
 * printed. Repetition is declared with a bounded loop group instead. See README.md#flow.
 */
export function flowCycle(ctx: RuleContext): void {
  const roles = ctx.spec.roles;
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string) => {
    state.set(id, 1);
    stack.push(id);
    const role = ctx.roleById.get(id)!;
    role.after.forEach((up, j) => {
      if (!ctx.roleById.has(up)) return;
      const s = state.get(up);
      if (s === 1) {
        const cycle = stack.slice(stack.indexOf(up));
        const key = [...cycle].sort().join(",");
        if (reported.has(key)) return;
        reported.add(key);
        // Print it in flow order: up runs before id, which runs before ... before up again.
        const order = [...cycle].reverse();
        const printed = [up, ...order].join(" -> ");
        ctx.report({
          code: "flow_cycle",
          path: ["roles", ctx.roleIndex.get(id)!, "after", j],
          message: `Cannot order roles: "after" edges form a cycle ${printed}`,
          related: order.slice(1).map((r) => ({
            path: ["roles", ctx.roleIndex.get(r)!, "after"],
            message: `role "${r}" is part of the cycle`,
          })),
          hint:
            "remove one of these edges; for repeated rounds declare a loop under flow.loops with max_rounds",
        });
      } else if (s === undefined) visit(up);
    });
    stack.pop();
    state.set(id, 2);
  };
  for (const r of roles) if (!state.has(r.id)) visit(r.id);
}
