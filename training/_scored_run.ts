import type { ExecutionGraph } from "../dsl/mod.ts";
import type { Verdict } from "../coaches/mod.ts";
import type { RunEvent } from "../runtime/mod.ts";
import { countedVerdicts, readRunEvents, readVerdicts } from "./run_stats.ts";

/** A finished run's events and the verdicts that count (each episode's last attempt, current rubrics). */
export async function readScoredRun(
  dir: string,
  graph: ExecutionGraph,
): Promise<
  { events: RunEvent[]; verdicts: ReadonlyMap<string, Verdict> }
> {
  const events = await readRunEvents(dir);
  const verdicts = countedVerdicts(events, await readVerdicts(dir, graph));
  return { events, verdicts };
}
