import type { Task } from "./load_tasks.ts";

/** One episode to run: a task and, when a task runs several times, which sample this is (from 1). */
export interface EpisodeSlot {
  readonly task: Task;
  readonly sample: number;
}

/** The episode id of a slot: `<split>:<task id>`, with `#<sample>` when a task runs several times. */
export function episodeIdOf(slot: EpisodeSlot): string {
  const base = `${slot.task.split}:${slot.task.id}`;
  return slot.sample > 0 ? `${base}#${slot.sample}` : base;
}

/** The tasks named by `taskIds` in that order, each `samples` times; unknown ids are an error. */
export function episodeSlots(
  tasks: readonly Task[],
  taskIds: readonly string[] | undefined,
  samples: number,
): EpisodeSlot[] {
  let chosen: readonly Task[] = tasks;
  if (taskIds !== undefined) {
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const missing = taskIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      throw new RangeError(
        `Cannot run tasks ${
          missing.slice(0, 5).map((id) => `"${id}"`).join(", ")
        }: the split has no task with that id; pick ids from its ${tasks.length} tasks`,
      );
    }
    chosen = taskIds.map((id) => byId.get(id)!);
  }
  return chosen.flatMap((task) =>
    samples === 1
      ? [{ task, sample: 0 }]
      : Array.from({ length: samples }, (_, k) => ({ task, sample: k + 1 }))
  );
}
