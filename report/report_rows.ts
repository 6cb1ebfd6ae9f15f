import {
  keyOf,
  type ReportEpisode,
  type ReportLayer,
  type RunData,
} from "./report_data.ts";

// Verdicts joined with their action and episode, under one outcome basis: the rows every score analysis
// of the report groups (by role, category) and conditions (on outcome).

/** One scored action joined with its episode: what score analyses group and condition on. */
export interface ScoredAction {
  readonly key: string;
  readonly episode_id: string;
  readonly role: string;
  readonly category: string;
  /** Episode outcome under the report's outcome basis; null when unknown. */
  readonly success: boolean | null;
  readonly score: number;
  /** Characters of the reply (text and tool-call arguments). */
  readonly reply_chars: number;
}

/** What counts as an episode's outcome: graded success when the run has grades, else its status. */
export interface OutcomeBasis {
  readonly graded: boolean;
  /** One line saying which, for the report. */
  readonly label: string;
  readonly of: (episode: ReportEpisode) => boolean | null;
}

/**
 * The outcome the report compares scores with: graded success when the run holds grades, otherwise
 * the episode status (completed = success, failed = failure), said so in `label`.
 *
 * @example
 * ```ts
 * import { outcomeBasis } from "./report_rows.ts";
 * if (outcomeBasis({ outcome_source: null }).graded) throw new Error("not graded");
 * ```
 */
export function outcomeBasis(
  data: Pick<RunData, "outcome_source">,
): OutcomeBasis {
  if (data.outcome_source !== null) {
    return {
      graded: true,
      label:
        `graded success (from ${data.outcome_source}); ungraded episodes are left out`,
      of: (e) => e.success,
    };
  }
  return {
    graded: false,
    label:
      "not graded: episode status stands in for the outcome (completed = success, failed = failure)",
    of: (e) => e.status === "running" ? null : e.status === "completed",
  };
}

/**
 * The scored verdicts of a layer joined with their action and episode.
 *
 * @example
 * ```ts
 * import { outcomeBasis, scoredActions } from "./report_rows.ts";
 * const data = { episodes: [], actions: [], outcome_source: null };
 * const layer = { name: "r@h", verdicts: [], dropped: 0, error: null };
 * if (scoredActions(data, layer, outcomeBasis(data)).length !== 0) throw new Error("rows from nothing");
 * ```
 */
export function scoredActions(
  data: Pick<RunData, "episodes" | "actions">,
  layer: ReportLayer,
  basis: OutcomeBasis,
): ScoredAction[] {
  const episodes = new Map(data.episodes.map((e) => [e.episode_id, e]));
  const actions = new Map(data.actions.map((a) => [a.key, a]));
  const out: ScoredAction[] = [];
  for (const v of layer.verdicts) {
    if (v.score === null) continue;
    const key = keyOf(v);
    const episode = episodes.get(v.episode_id);
    out.push({
      key,
      episode_id: v.episode_id,
      role: v.role,
      category: episode?.category ?? "(none)",
      success: episode ? basis.of(episode) : null,
      score: v.score,
      reply_chars: actions.get(key)?.reply.length ?? 0,
    });
  }
  return out;
}
