import {
  compareLayers,
  type CompareOptions,
  type Comparison,
} from "./compare.ts";
import { readLayer, resolveLayer } from "../coaches/mod.ts";
import { RunLog } from "../runtime/mod.ts";

/** Options of `compareRun`: those of `compareLayers` but the categories, which come from the run. */
export type CompareRunOptions = Omit<CompareOptions, "categories">;

/**
 * Compares two score layers of a run directory (`deno task compare <run> <A> <B>`): each layer named in
 * full or by a unique prefix (`resolveLayer`), task categories from the run's `episode_started` events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareRun } from "./compare_run.ts";
 * import { fixtureRunDir } from "../tests/fixtures/rescore_fixture.ts";
 * await assert.rejects(compareRun(await fixtureRunDir(), "a", "b"), /Cannot find score layer "a"/);
 * ```
 */
export async function compareRun(
  runDir: string,
  layerA: string,
  layerB: string,
  options: CompareRunOptions = {},
): Promise<Comparison> {
  const a = await readLayer(runDir, await resolveLayer(runDir, layerA));
  const b = await readLayer(runDir, await resolveLayer(runDir, layerB));
  const log = await RunLog.load(runDir);
  const categories = new Map<string, string | null>();
  for (const { episode_id } of log.actions()) {
    if (categories.has(episode_id)) continue;
    categories.set(
      episode_id,
      log.episodeStarted(episode_id)?.category ?? null,
    );
  }
  return compareLayers(a, b, { ...options, categories });
}
