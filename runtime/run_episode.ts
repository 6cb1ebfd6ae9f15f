import type { ExecutionGraph, GraphRole } from "../dsl/mod.ts";
import type { EpisodeContext } from "./episode_context.ts";
import type { RoleResult } from "./role_result.ts";
import { runRole } from "./run_role.ts";
import { SpecRegex } from "./spec_regex.ts";

/** A schedulable unit: one role, or a loop group repeated as a whole. */
interface Unit {
  readonly id: string;
  readonly roles: readonly GraphRole[];
  readonly maxRounds: number;
  readonly until?: {
    readonly role: string;
    readonly output: string;
    readonly pattern: SpecRegex;
  };
  readonly deps: Set<string>;
}

/** Collapses each loop group into one unit; a unit waits for the units of its members' `after` roles. */
export function planUnits(graph: ExecutionGraph): Unit[] {
  const unitOf = new Map<string, string>();
  const units = new Map<string, Unit>();
  for (const loop of graph.loops) {
    const roles = graph.roles.filter((r) => loop.roles.includes(r.id)); // graph order is topological
    units.set(`loop:${loop.id}`, {
      id: `loop:${loop.id}`,
      roles,
      maxRounds: loop.max_rounds,
      ...(loop.until
        ? {
          until: {
            role: loop.until.role,
            output: loop.until.output,
            pattern: SpecRegex.compile(loop.until.matches),
          },
        }
        : {}),
      deps: new Set(),
    });
    for (const r of roles) unitOf.set(r.id, `loop:${loop.id}`);
  }
  for (const r of graph.roles) {
    if (unitOf.has(r.id)) continue;
    units.set(r.id, { id: r.id, roles: [r], maxRounds: 1, deps: new Set() });
    unitOf.set(r.id, r.id);
  }
  for (const r of graph.roles) {
    const unit = units.get(unitOf.get(r.id)!)!;
    for (const a of r.after) {
      const dep = unitOf.get(a)!;
      if (dep !== unit.id) unit.deps.add(dep);
    }
  }
  return [...units.values()];
}

async function runUnit(ctx: EpisodeContext, unit: Unit): Promise<void> {
  for (let round = 1; round <= unit.maxRounds; round++) {
    for (const role of unit.roles) {
      if (ctx.signal.aborted) return;
      const result: RoleResult = await runRole(ctx, role, round);
      ctx.results.set(role.id, result);
    }
    if (unit.until) {
      const value = ctx.results.get(unit.until.role)
        ?.outputs[unit.until.output];
      if (typeof value === "string" && unit.until.pattern.test(value)) return;
    }
  }
}

/**
 * Runs every role of one episode: units start as soon as the units they depend on finish, so roles with
 * no path between them run concurrently; loop groups repeat up to `max_rounds`.
 */
export async function runEpisodeRoles(ctx: EpisodeContext): Promise<void> {
  const units = planUnits(ctx.graph);
  const done = new Map<string, Promise<void>>();
  const start = (unit: Unit): Promise<void> => {
    let p = done.get(unit.id);
    if (!p) {
      p = Promise.all(
        [...unit.deps].map((d) => start(units.find((u) => u.id === d)!)),
      ).then(() => runUnit(ctx, unit));
      done.set(unit.id, p);
    }
    return p;
  };
  // Wait for every unit, even when one fails, so no role still runs once the episode is recorded.
  const results = await Promise.allSettled(units.map(start));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
