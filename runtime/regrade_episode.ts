import { dirname, join, relative, resolve } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import type { EpisodeFinishedEvent } from "./events.ts";
import {
  gradeEpisode,
  type GradeEpisodeOptions,
} from "./graders/grade_episode.ts";
import type { Task } from "./load_tasks.ts";
import type { RunStore } from "./run_store.ts";

/**
 * Grades again, on --resume, an episode the grader could not grade before (DESIGN decision 11): its final
 * workspace files are restored from the run's blobs into `scratch`, the grader runs on them and on the
 * recorded outputs, and a new `episode_finished` for the same attempt (`regraded: true`) replaces the old
 * one. The agents are not run again, so nothing they did is lost or redone. A file whose blob is missing
 * leaves the episode ungraded, with the reason. Returns the new event.
 */
export async function regradeEpisode(
  graph: ExecutionGraph,
  input: {
    readonly task: Task;
    readonly finished: EpisodeFinishedEvent;
    readonly store: RunStore;
    readonly scratch: string;
    /** The sandbox, slots and extra grader kinds grading uses, as in the run. */
    readonly grading?: GradeEpisodeOptions;
  },
): Promise<EpisodeFinishedEvent> {
  const { task, finished, store, scratch } = input;
  await Deno.mkdir(scratch, { recursive: true, mode: 0o700 });
  const root = resolve(scratch);
  let missing: string | undefined;
  try {
    for (const [path, sha] of Object.entries(finished.files)) {
      const target = resolve(root, path);
      const rel = relative(root, target);
      // The paths are the run's own records; one that leaves the scratch folder is not restored.
      if (rel === "" || rel.startsWith("..") || !/^[0-9a-f]{64}$/.test(sha)) {
        missing ??= `${path} (not a workspace path)`;
        continue;
      }
      await Deno.mkdir(dirname(target), { recursive: true });
      try {
        await Deno.copyFile(store.blobPath(sha), target);
      } catch {
        missing ??= `${path} (blob ${sha.slice(0, 12)}… is not in blobs/)`;
      }
    }
    const outcome = await gradeEpisode({
      graph,
      task,
      outputs: finished.outputs,
      workspace: root,
    }, { episodeId: finished.episode_id, ...input.grading });
    const regraded = outcome && missing !== undefined &&
        outcome.ungraded === undefined && !outcome.valid
      ? {
        ...outcome,
        success: false,
        ungraded: "grader_error" as const,
        reason:
          `not graded: the final files could not all be restored: ${missing}`,
      }
      : outcome;
    const { run_id: _r, step: _s, ts: _t, ...rest } = finished;
    return await store.append({
      ...rest,
      ...(regraded ? { outcome: regraded } : {}),
      regraded: true,
    }) as EpisodeFinishedEvent;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/** Where a regraded episode's files are restored: one folder per episode under the run's work root. */
export function regradeScratch(workRoot: string, episodeId: string): string {
  return join(
    workRoot,
    `regrade-${episodeId.replace(/[^A-Za-z0-9_.-]/g, "_")}`,
  );
}
