import type { ExecutionGraph } from "../dsl/mod.ts";
import { outcomeJudgeUses } from "../dsl/mod.ts";
import type { ModelCap } from "./events.ts";
import { planUnits } from "./run_episode.ts";

/** How many requests one model may have in flight during a run, and what the run could use. */
export interface ModelConcurrency {
  /** The spec's model id. */
  readonly model: string;
  /** Requests the run can keep in flight for the model: episodes in flight x its users that can run at once. */
  readonly demand: number;
  /** Requests its client lets be in flight: the spec's `max_concurrency`, else `demand`. */
  readonly limit: number;
  /** Whether `limit` is the spec's `max_concurrency` (a real cap) rather than derived from the run. */
  readonly explicit: boolean;
}

/** Options of {@linkcode modelConcurrency}. */
export interface ModelConcurrencyOptions {
  /** Episodes the run keeps in flight: `--concurrency`, or fewer when fewer episodes are left. */
  readonly episodes: number;
  /** Whether the coach scores actions while the run goes on (its judge calls count toward its model). */
  readonly coached: boolean;
}

/**
 * Sizes each model's request limit from the run, so a model's default concurrency never holds a run back.
 * A model's users at once are the most units (a role, or a loop group, whose roles run one after another)
 * that use it and have no path between them in the flow, i.e. that can run at the same time in one
 * episode; the coach's model adds one per coached role, the judge calls a role's finished rounds may have
 * in flight, and an `llm_judge` outcome's model one, the episode's grading. `demand` is episodes x users. A model without `max_concurrency` gets `limit = demand`; one
 * whose `max_concurrency` is lower is a cap the run reports (see {@linkcode cappedModels}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "../dsl/mod.ts";
 * import { modelConcurrency } from "./model_concurrency.ts";
 * const compiled = compileFile("pipelines/math.yaml");
 * assert(compiled.ok);
 * const sized = modelConcurrency(compiled.graph, { episodes: 32, coached: false });
 * assert(sized.every((m) => m.limit >= 1));
 * ```
 */
export function modelConcurrency(
  graph: ExecutionGraph,
  options: ModelConcurrencyOptions,
): ModelConcurrency[] {
  const episodes = Math.max(1, options.episodes);
  const units = planUnits(graph);
  const unitOf = new Map<string, number>();
  units.forEach((u, i) => u.roles.forEach((r) => unitOf.set(r.id, i)));
  const reach = reachability(units.map((u) => [...u.deps]), units);
  const coached = options.coached && graph.coach !== undefined
    ? graph.roles.filter((r) => r.coached).length
    : 0;
  return Object.entries(graph.models).map(([model, spec]) => {
    const used = [
      ...new Set(
        graph.roles.filter((r) => r.model === model).map((r) =>
          unitOf.get(r.id)!
        ),
      ),
    ];
    const judges = graph.coach?.model === model ? coached : 0;
    // An llm_judge outcome grades each episode once, at its end: one call in flight per episode.
    const grading = outcomeJudgeUses(graph.outcome).some((u) =>
        u.judge.params.model === model
      )
      ? 1
      : 0;
    const demand = episodes *
      (widestAntichain(used, reach) + judges + grading);
    return {
      model,
      demand,
      limit: spec.max_concurrency ?? Math.max(1, demand),
      explicit: spec.max_concurrency !== undefined,
    };
  });
}

/** The models whose spec'd `max_concurrency` is below what the run could keep in flight. */
export function cappedModels(
  sized: readonly ModelConcurrency[],
  episodes: number,
): ModelCap[] {
  return sized.filter((m) => m.explicit && m.limit < m.demand).map((m) => ({
    model: m.model,
    max_concurrency: m.limit,
    demand: m.demand,
    episodes: Math.max(1, episodes),
  }));
}

/**
 * What the CLI says about a capped model, naming the fix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelCapMessage } from "./model_concurrency.ts";
 * assert.match(
 *   modelCapMessage({ model: "actor", max_concurrency: 8, demand: 32, episodes: 32 }),
 *   /^model "actor" caps requests at 8 while 32 episodes run/,
 * );
 * ```
 */
export function modelCapMessage(cap: ModelCap): string {
  return `model "${cap.model}" caps requests at ${cap.max_concurrency} while ${cap.episodes} episode${
    cap.episodes === 1 ? "" : "s"
  } run (they could keep ${cap.demand} in flight); raise models.${cap.model}.max_concurrency, or remove it to follow --concurrency`;
}

/** `reach[i]` holds every unit that unit i waits for, directly or not. */
function reachability(
  deps: readonly string[][],
  units: readonly { readonly id: string }[],
): Set<number>[] {
  const index = new Map(units.map((u, i) => [u.id, i]));
  const memo: (Set<number> | undefined)[] = [];
  const visit = (i: number): Set<number> => {
    const known = memo[i];
    if (known) return known;
    const out = new Set<number>();
    memo[i] = out; // the flow is acyclic once loops are units; this only guards a malformed graph
    for (const d of deps[i]!) {
      const j = index.get(d);
      if (j === undefined) continue;
      out.add(j);
      for (const k of visit(j)) out.add(k);
    }
    return out;
  };
  return units.map((_, i) => visit(i));
}

// Past this many units per model, the count itself stands in (an upper bound): matching is quadratic.
const EXACT_UP_TO = 64;

/**
 * The size of the largest set of `units` with no path between any two (Dilworth: units minus a maximum
 * matching of the "runs before" relation).
 */
function widestAntichain(
  units: readonly number[],
  reach: readonly Set<number>[],
): number {
  if (units.length > EXACT_UP_TO) return units.length;
  const before = units.map((a) =>
    units.flatMap((b, j) => reach[b]!.has(a) ? [j] : [])
  );
  const matchOf: (number | undefined)[] = [];
  const augment = (i: number, seen: Set<number>): boolean => {
    for (const j of before[i]!) {
      if (seen.has(j)) continue;
      seen.add(j);
      const other = matchOf[j];
      if (other === undefined || augment(other, seen)) {
        matchOf[j] = i;
        return true;
      }
    }
    return false;
  };
  let matched = 0;
  for (let i = 0; i < units.length; i++) {
    if (augment(i, new Set())) matched++;
  }
  return units.length - matched;
}
