import assert from "node:assert/strict";
import { buildReport } from "./run_report.ts";
import {
  type SyntheticRun,
  writeSyntheticRun,
} from "../tests/fixtures/report_fixture.ts";

const RUN: SyntheticRun = {
  run_id: "ungraded__0__1",
  policy: "model",
  graph: {
    name: "ungraded",
    models: { actor: { provider: "openai", model: "m" } },
    roles: [{ id: "solver", model: "actor" }],
  },
  layers: [],
  episodes: [
    { id: "e1", category: null, success: true, actions: [] },
    { id: "e2", category: null, success: false, actions: [] },
    {
      id: "e3",
      category: null,
      success: null,
      ungraded: "grader_error",
      actions: [],
    },
  ],
};

Deno.test("buildReport() counts an episode the grader could not grade apart, neither success nor failure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa-report-ungraded-" });
  try {
    await writeSyntheticRun(dir, RUN);
    const page = await buildReport(dir);
    assert.match(page, /<th>ungraded \(grader failed\)<\/th>/);
    assert.match(
      page,
      /<td>3<\/td><td>3<\/td><td>0<\/td><td>0<\/td><td>1<\/td>/,
    );
    // 1 of 2 graded: e3 is out of the success rate.
    assert.match(page, /50\.0% \(1 of 2 graded\)/);
    assert.match(
      page,
      /Ungraded \(grader failed\): the grader could not grade 1 episode\(s\).*e3 \(grader_error: the grader failed: disk on fire\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
