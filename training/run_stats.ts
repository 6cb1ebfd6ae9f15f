import {
  COMPARABLE_FAIR_DEFAULT,
  COMPARABLE_METRICS,
  comparableMetrics,
  type ExecutionGraph,
  type Outcome,
} from "../dsl/mod.ts";
import type { RunEvent } from "../runtime/mod.ts";
import {
  layerName,
  listLayers,
  readLayer,
  type Verdict,
  verdictKey,
} from "../coaches/mod.ts";
import { RunLog } from "../runtime/mod.ts";
import { mean, type OutcomeStats } from "./metrics.ts";

/**
 * The episode events of a run directory's kept attempts (`RunLog`: validated, a torn last line from a
 * killed run dropped, earlier attempts of a retried episode left out), episode by episode.
 */
export async function readRunEvents(dir: string): Promise<RunEvent[]> {
  const log = await RunLog.load(dir);
  return log.episodeIds().flatMap((id) => [...log.episodeEvents(id)]);
}

/** The verdicts of a run under the graph's current rubrics, by `verdictKey`; layers of other rubric versions are ignored. */
export async function readVerdicts(
  dir: string,
  graph: ExecutionGraph,
): Promise<Map<string, Verdict>> {
  const out = new Map<string, Verdict>();
  const have = new Set(await listLayers(dir));
  for (const rubric of Object.values(graph.coach?.rubrics ?? {})) {
    const name = layerName(rubric);
    if (!have.has(name)) continue;
    for (const v of await readLayer(dir, name)) out.set(verdictKey(v), v);
  }
  return out;
}

type Finished = Extract<RunEvent, { kind: "episode_finished" }>;

function lastFinished(events: readonly RunEvent[]): Map<string, Finished> {
  const finished = new Map<string, Finished>();
  for (const e of events) {
    if (e.kind === "episode_finished") finished.set(e.episode_id, e);
  }
  return finished;
}

/**
 * The verdicts that count: those on actions of the last attempt of each finished episode (a retried
 * episode's earlier attempts and unfinished episodes are left out, as `buildSamples` leaves them out).
 */
export function countedVerdicts(
  events: readonly RunEvent[],
  verdicts: ReadonlyMap<string, Verdict>,
): Map<string, Verdict> {
  const last = lastFinished(events);
  return new Map(
    [...verdicts].filter(([, v]) =>
      last.get(v.episode_id)?.attempt === v.attempt
    ),
  );
}

/**
 * Success rate and metric means of a run's episodes. Means cover only the metrics on one scale across tasks
 * (`COMPARABLE_METRICS`, so an rmse is never averaged with an rmsle); an episode that failed before grading
 * counts at the fair values of `spec` (the graph's outcome; without it, failed episodes are left out) and as no success (`failed` says how many); an episode the grader could
 * not grade (infrastructure) is counted apart as `ungraded`, never a failure.
 */
export function outcomeStats(
  events: readonly RunEvent[],
  spec?: Pick<Outcome, "grader" | "fair">,
): OutcomeStats {
  const finished = [...lastFinished(events).values()];
  const graded = finished.filter((e) =>
    e.outcome !== undefined && e.outcome.ungraded === undefined
  );
  const ungraded = finished.filter((e) => e.outcome?.ungraded !== undefined)
    .length;
  const failed = spec
    ? finished.filter((e) =>
      e.outcome === undefined && e.status !== "completed"
    )
    : [];
  const sums: Record<string, number[]> = {};
  const add = (grader: string, value: (k: string) => number | undefined) => {
    const comparable = spec
      ? comparableMetrics(spec)
      : COMPARABLE_METRICS[grader as Outcome["grader"]] ?? [];
    for (const k of comparable) {
      const v = value(k);
      if (v !== undefined && Number.isFinite(v)) (sums[k] ??= []).push(v);
    }
  };
  for (const e of graded) add(e.outcome!.grader, (k) => e.outcome!.metrics[k]);
  for (const _ of failed) {
    add(spec!.grader, (k) => spec!.fair[k] ?? COMPARABLE_FAIR_DEFAULT);
  }
  return {
    episodes: finished.length,
    graded: graded.length,
    ...(ungraded > 0 ? { ungraded } : {}),
    ...(failed.length > 0 ? { failed: failed.length } : {}),
    success_rate: mean([
      ...graded.map((e) => e.outcome!.success ? 1 : 0),
      ...failed.map(() => 0),
    ]),
    metrics: Object.fromEntries(
      Object.entries(sums).map(([k, v]) => [k, mean(v)!]),
    ),
  };
}

/** Mean coach score (every role) and success rate per task category. */
export function categoryStats(
  events: readonly RunEvent[],
  verdicts: ReadonlyMap<string, Verdict>,
): Record<
  string,
  { score_mean: number | null; scored: number; success_rate: number | null }
> {
  const category = new Map<string, string>();
  for (const e of events) {
    if (e.kind === "episode_started") {
      category.set(e.episode_id, e.category ?? "(none)");
    }
  }
  const scores: Record<string, number[]> = {};
  const successes: Record<string, number[]> = {};
  for (const v of countedVerdicts(events, verdicts).values()) {
    const c = category.get(v.episode_id);
    if (c !== undefined && v.status === "scored" && v.score !== null) {
      (scores[c] ??= []).push(v.score);
    }
  }
  for (const e of lastFinished(events).values()) {
    const c = category.get(e.episode_id);
    if (c !== undefined && e.outcome && e.outcome.ungraded === undefined) {
      (successes[c] ??= []).push(e.outcome.success ? 1 : 0);
    }
  }
  const names = new Set([...Object.keys(scores), ...Object.keys(successes)]);
  return Object.fromEntries(
    [...names].sort().map((c) => [c, {
      score_mean: mean(scores[c] ?? []),
      scored: (scores[c] ?? []).length,
      success_rate: mean(successes[c] ?? []),
    }]),
  );
}

/** Mean coach score per role over a run's scored verdicts (pass `countedVerdicts` to leave out superseded attempts). */
export function roleScores(
  verdicts: ReadonlyMap<string, Verdict>,
): Record<string, { score_mean: number | null; scored: number }> {
  const by: Record<string, number[]> = {};
  for (const v of verdicts.values()) {
    if (v.status === "scored" && v.score !== null) {
      (by[v.role] ??= []).push(v.score);
    }
  }
  return Object.fromEntries(
    Object.entries(by).map((
      [r, s],
    ) => [r, { score_mean: mean(s), scored: s.length }]),
  );
}
