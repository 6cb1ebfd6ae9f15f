import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import { createModelClient, ScriptedModelClient } from "../runtime/mod.ts";
import { JudgeCache, OutcomeJudgeError } from "../coaches/mod.ts";
import { compiledGraph, fixtureTask } from "../tests/fixtures/graph_fixture.ts";
import { prepareOutcomeJudge } from "./outcome_judge.ts";

function graph(judge: string, grader = "llm_judge"): ExecutionGraph {
  const params = grader === "llm_judge"
    ? "{ model: judge, answer: a.out, rubric: 'Answer: {{ answer }}' }"
    : "{ answer: a.out }";
  return compiledGraph([
    "version: 1",
    "name: g",
    `models: { m: { model: x }, judge: ${judge} }`,
    "roles:",
    "  - { id: a, description: d, model: m, prompts: { user: hi }, outputs: { out: { extract: final_text } } }",
    'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }',
    `outcome: { grader: ${grader}, params: ${params} }`,
  ]);
}

const TASK = fixtureTask();

Deno.test("prepareOutcomeJudge() wires nothing for another grader", async () => {
  const g = graph("{ model: j }", "exact_match");
  const client = await createModelClient(g.models, {});
  assert.equal(
    prepareOutcomeJudge(g, { client, demoAllowed: true }),
    undefined,
  );
});

Deno.test("prepareOutcomeJudge() gives the offline demo the labelled demo judge and logs its judgements", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outcome_judge_setup_" });
  try {
    const g = graph("{ model: j }");
    const client = await createModelClient(g.models, {});
    const judge = prepareOutcomeJudge(g, {
      client,
      demoAllowed: true,
      cache: new JudgeCache({ dir: join(dir, "cache") }),
    })!;
    assert.equal(judge.demo, true);
    assert.match(judge.note, /^outcome: demo judge \(scripted verdicts/);
    const grade = await judge.graders.llm_judge!({
      graph: g,
      task: TASK,
      outputs: { a: { out: "42" } },
      workspace: dir,
    });
    assert.deepEqual(grade.metrics, { score: 5, normalized_score: 0.5 });
    assert.match(grade.summary, /^Demo judge: a scripted verdict/);
    // Judgements made before the run directory is known are kept, then written.
    judge.logTo(join(dir, "run", "outcome_judge.jsonl"));
    await judge.flush();
    const lines = (await Deno.readTextFile(
      join(dir, "run", "outcome_judge.jsonl"),
    )).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.task_id, l.status, l.score, l.demo]),
      [["t1", "scored", 5, true]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepareOutcomeJudge() leaves episodes ungraded (no_endpoint, no call) when the judge has no endpoint outside the demo", async () => {
  const g = graph("{ model: j }");
  // The demo policy's scripted replies answer every unconfigured model: they must never judge.
  const fallback = new ScriptedModelClient({
    after_last: "repeat_last",
    roles: { outcome: ['{"reasoning": "x", "score": 10, "blame": null}'] },
    tasks: {},
  });
  const client = await createModelClient(g.models, { fallback });
  const judge = prepareOutcomeJudge(g, { client, demoAllowed: false })!;
  assert.equal(judge.demo, false);
  assert.match(
    judge.note,
    /models\.judge has no endpoint: episodes stay ungraded/,
  );
  await assert.rejects(
    judge.graders.llm_judge!({
      graph: g,
      task: TASK,
      outputs: { a: { out: "42" } },
      workspace: "",
    }),
    (e: unknown) =>
      e instanceof OutcomeJudgeError && e.reason === "no_endpoint" &&
      /set its base_url, then grade again with --resume/.test(e.message),
  );
});
