import type { ExecutionGraph } from "../dsl/mod.ts";

/**
 * The model fields that say where and how a model is served, not what it is: a run resumed with only these
 * changed (a fixed URL, a key in another variable, a longer timeout) is the same run.
 */
export const SERVING_FIELDS: readonly string[] = [
  "base_url",
  "api_key_env",
  "timeout_s",
  "max_retries",
  "requests_per_minute",
  "max_concurrency",
];

type Rec = Record<string, unknown>;

function withoutServing(model: unknown): string {
  if (typeof model !== "object" || model === null) return JSON.stringify(model);
  const kept = Object.fromEntries(
    Object.entries(model as Rec).filter(([k]) => !SERVING_FIELDS.includes(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return JSON.stringify(kept);
}

/**
 * Whether two compiled graphs (as recorded in a manifest, and as compiled now) differ only in where their
 * models are served, and which models' serving changed. `differing` is the graphs' differing top-level keys.
 */
export function servingOnlyChange(
  recorded: Rec | undefined,
  graph: ExecutionGraph,
  differing: readonly string[],
): string[] | undefined {
  if (!recorded || differing.length !== 1 || differing[0] !== "models") {
    return undefined;
  }
  const before = (recorded.models ?? {}) as Rec;
  const now = graph.models as unknown as Rec;
  const ids = new Set([...Object.keys(before), ...Object.keys(now)]);
  const changed: string[] = [];
  for (const id of ids) {
    if (!(id in before) || !(id in now)) return undefined;
    if (withoutServing(before[id]) !== withoutServing(now[id])) {
      return undefined;
    }
    if (JSON.stringify(before[id]) !== JSON.stringify(now[id])) {
      changed.push(id);
    }
  }
  return changed;
}
