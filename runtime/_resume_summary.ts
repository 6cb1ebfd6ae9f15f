import type { EpisodeFinishedEvent } from "./events.ts";
import { RunStore } from "./run_store.ts";
import { addEvent, type RunSummary } from "./run_summary.ts";

/**
 * Folds the episodes a resumed run finished before into its summary, so success rates, means, actions and
 * cost cover the whole run, not only this session: each finished episode's last attempt counts once (its
 * start, actions and role ends, then its last `episode_finished`). Episodes about to be regraded are left
 * for their new record.
 */
export async function foldEarlierEpisodes(
  summary: RunSummary,
  dir: string,
  earlier: {
    readonly finished: ReadonlySet<string>;
    readonly attempts: ReadonlyMap<string, number>;
    readonly regraded: ReadonlySet<string>;
  },
): Promise<void> {
  const last = new Map<string, EpisodeFinishedEvent>();
  const kept = (id: string, attempt: number) =>
    earlier.finished.has(id) && earlier.attempts.get(id) === attempt;
  await RunStore.forEachEvent(dir, (e) => {
    if (!("episode_id" in e) || typeof e.episode_id !== "string") return;
    if (!("attempt" in e) || !kept(e.episode_id, e.attempt as number)) return;
    if (e.kind === "episode_finished") {
      if (!earlier.regraded.has(e.episode_id)) last.set(e.episode_id, e);
    } else if (
      e.kind === "episode_started" || e.kind === "action" ||
      e.kind === "role_finished"
    ) addEvent(summary, e);
  });
  for (const e of last.values()) addEvent(summary, e);
}
