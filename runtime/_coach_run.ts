import type { Coach } from "./ports.ts";
import type { RunEvent } from "./events.ts";
import type { RunStore } from "./run_store.ts";
import { addEvent, type RunSummary } from "./run_summary.ts";

/** What `watchRun` needs of runPipeline's options. */
export interface WatchRunOptions {
  readonly coach?: Coach | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?:
    | ((event: RunEvent, summary: Readonly<RunSummary>) => void)
    | undefined;
}

/**
 * Starts the coach, then passes every written event to the summary, `onEvent` and the coach. `finish`
 * waits for the coach's pending work and returns the first error it met (observing or finishing).
 */
export async function watchRun(
  store: RunStore,
  summary: RunSummary,
  options: WatchRunOptions,
): Promise<{ finish(): Promise<string | undefined> }> {
  const { coach } = options;
  await coach?.start({
    dir: store.dir,
    run_id: store.runId,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const coaching = new Set<Promise<void>>();
  const errors: string[] = [];
  const message = (err: unknown) =>
    err instanceof Error ? err.message : String(err);
  store.listen((e) => {
    addEvent(summary, e);
    options.onEvent?.(e, summary);
    if (coach && e.kind !== "run_finished") {
      const p: Promise<void> = coach.observe(e).catch((err) => {
        errors.push(message(err));
      }).finally(() => coaching.delete(p));
      coaching.add(p);
    }
  });
  return {
    async finish() {
      if (!coach) return undefined;
      while (coaching.size > 0) await Promise.all([...coaching]);
      await coach.finish().catch((err) => errors.push(message(err)));
      return errors[0];
    },
  };
}
