import { join } from "node:path";
import type { Verdict } from "./types.ts";
import {
  LAYER_NAME_PATTERN,
  layerPath,
  parseLayer,
  readLayerText,
  ScoreLayerError,
  SCORES_DIR,
} from "./score_layer_format.ts";

// Score layers (`runs/<id>/scores/<rubric-name>@<rubric-hash>.jsonl`): reading, listing and finding them.
// The writer is in score_layer_writer.ts, names and parsing in score_layer_format.ts; all are exported here.

export {
  layerName,
  layerPath,
  ScoreLayerError,
  SCORES_DIR,
  type VerdictKey,
  verdictKey,
} from "./score_layer_format.ts";
export { ScoreLayerWriter } from "./score_layer_writer.ts";

/**
 * Reads a layer's verdicts in the order written, one per (episode_id, attempt, action_index): a later
 * duplicate is ignored and a torn last line is dropped. Throws `ScoreLayerError` when the layer does not
 * exist or a complete line is not a valid verdict.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLayer, ScoreLayerError } from "./score_layer.ts";
 * await assert.rejects(readLayer(await Deno.makeTempDir(), "math@abc"), ScoreLayerError);
 * ```
 */
export async function readLayer(
  runDir: string,
  layer: string,
): Promise<Verdict[]> {
  const path = layerPath(runDir, layer);
  const text = await readLayerText(path);
  if (text === undefined) {
    const known = (await listLayers(runDir)).map((l) => `"${l}"`);
    throw new ScoreLayerError(
      `Cannot read score layer "${layer}": ${path} does not exist (layers: ${
        known.join(", ") || "none"
      })`,
      path,
    );
  }
  return parseLayer(text, path).verdicts;
}

/**
 * The layer names of a run (`<rubric-name>@<rubric-hash>`), sorted; empty when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listLayers } from "./score_layer.ts";
 * assert.deepEqual(await listLayers(await Deno.makeTempDir()), []);
 * ```
 */
export async function listLayers(runDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(runDir, SCORES_DIR))) {
      if (!entry.isFile || !entry.name.endsWith(".jsonl")) continue;
      const name = entry.name.slice(0, -".jsonl".length);
      if (LAYER_NAME_PATTERN.test(name)) names.push(name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

/**
 * Finds a layer from what a user typed: its full name, or a prefix of exactly one layer's name (the
 * rubric name alone, or with part of its hash). Throws `ScoreLayerError` naming the candidates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLayer, ScoreLayerError } from "./score_layer.ts";
 * await assert.rejects(resolveLayer(await Deno.makeTempDir(), "math"), ScoreLayerError);
 * ```
 */
export async function resolveLayer(
  runDir: string,
  query: string,
): Promise<string> {
  const layers = await listLayers(runDir);
  if (layers.includes(query)) return query;
  const byRubric = layers.filter((l) => l.startsWith(`${query}@`));
  const matches = byRubric.length > 0
    ? byRubric
    : layers.filter((l) => l.startsWith(query));
  if (matches.length === 1) return matches[0]!;
  const dir = join(runDir, SCORES_DIR);
  throw new ScoreLayerError(
    matches.length === 0
      ? `Cannot find score layer "${query}" in ${dir}: ${
        layers.length === 0
          ? "the run has none"
          : `it has ${layers.map((l) => `"${l}"`).join(", ")}`
      }`
      : `Cannot choose score layer "${query}" in ${dir}: it matches ${
        matches.map((l) => `"${l}"`).join(", ")
      }`,
    dir,
  );
}
