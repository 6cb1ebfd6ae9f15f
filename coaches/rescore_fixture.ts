import { join } from "node:path";
import { fixtureGraph, FixtureRun } from "./run_log_fixture.ts";

// Test fixture: a run directory on disk (manifest with the compiled graph, events.jsonl), without a run.

/**
 * A finished run directory of the DSBench-shaped fixture graph (category "binary"): the data engineer
 * acts twice and misses X_test.pkl, then the modeler and the analyst act once each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureRunDir } from "./rescore_fixture.ts";
 * assert.ok((await Deno.stat(`${await fixtureRunDir()}/events.jsonl`)).isFile);
 * ```
 */
export async function fixtureRunDir(): Promise<string> {
  const run = new FixtureRun();
  run.started();
  run.action("data_engineer", {
    contract: { missing_required: ["X_test.pkl"] },
  });
  run.action("data_engineer", {
    contract: { missing_required: ["X_test.pkl"] },
  });
  run.finished("data_engineer", {
    contract: { missing_required: ["X_test.pkl"] },
  });
  run.action("modeler");
  run.finished("modeler");
  run.action("analyst");
  run.finished("analyst");
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({
      run_id: "fixture__0__1",
      graph: fixtureGraph(),
      args: { split: "eval" },
    }),
  );
  await Deno.writeTextFile(
    join(dir, "events.jsonl"),
    run.events.map((e) => JSON.stringify(e) + "\n").join(""),
  );
  return dir;
}
