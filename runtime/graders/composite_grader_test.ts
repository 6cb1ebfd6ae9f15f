import assert from "node:assert/strict";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import {
  compiledGraph,
  fixtureTask,
} from "../../tests/fixtures/graph_fixture.ts";
import { BwrapSandbox } from "../sandbox/bwrap_sandbox.ts";
import type { Grader } from "./grade.ts";
import { gradeEpisode, type GradeEpisodeOptions } from "./grade_episode.ts";

const sandbox = await BwrapSandbox.create();
// Slot 86 belongs to this file, so parallel test files never share a uid.
const grading: GradeEpisodeOptions = { sandbox, withSlot: (fn) => fn(86) };

function graph(outcome: string[]): ExecutionGraph {
  return compiledGraph([
    "version: 1",
    "name: g",
    "models: { m: { model: x }, judge: { model: y } }",
    "roles:",
    "  - { id: coder, description: d, model: m, prompts: { user: hi }, outputs: { solution: { extract: final_text }, note: { extract: final_text } } }",
    'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }',
    ...outcome,
  ]);
}

const task = fixtureTask({ id: "t" });

/** Grades `g` on `task` with the coder's `solution` and `note`, no workspace, in the sandbox. */
function grade(
  g: ExecutionGraph,
  solution: string | null,
  note = "",
  options: GradeEpisodeOptions = grading,
): ReturnType<typeof gradeEpisode> {
  return gradeEpisode({
    graph: g,
    task,
    outputs: { coder: { solution, note } },
    workspace: "",
  }, options);
}

const COMPOSITE = [
  "outcome:",
  "  grader: composite",
  "  params:",
  "    graders:",
  "      tests:",
  "        grader: command",
  "        params:",
  "          language: python",
  "          metrics: { pass_rate: { min: 0, max: 1, comparable: true } }",
  "          answer: coder.solution",
  "          code: |",
  "            import json, sys",
  "            d = json.load(sys.stdin)",
  "            ok = d['answer'] == d['expected']",
  "            print(json.dumps({'metrics': {'pass_rate': 1 if ok else 0.5}}))",
  "      exact: { grader: exact_match, params: { answer: coder.solution } }",
];

Deno.test("a composite reports each component's metrics as <id>.<metric> and decides success on them", async () => {
  const g = graph([
    ...COMPOSITE,
    "  success:",
    "    all: [{ metric: tests.pass_rate, at_least: 1 }, { metric: exact.correct, at_least: 1 }]",
    "  fair: { tests.pass_rate: 0, exact.correct: 0 }",
  ]);
  const right = await grade(g, "42");
  assert.equal(right?.ungraded, undefined, right?.reason);
  assert.deepEqual(
    [right?.grader, right?.valid, right?.success, right?.metrics],
    ["composite", true, true, { "tests.pass_rate": 1, "exact.correct": 1 }],
  );
  assert.match(right?.summary ?? "", /^\[tests\] .*\n\[exact\] /s);
  const wrong = await grade(g, "41");
  assert.deepEqual([wrong?.success, wrong?.metrics], [false, {
    "tests.pass_rate": 0.5,
    "exact.correct": 0,
  }]);
});

Deno.test("a composite is invalid when a component is, with the composite's fair values for it", async () => {
  const g = graph([...COMPOSITE, "  fair: { exact.correct: 0 }"]);
  const o = await grade(g, null);
  assert.equal(o?.ungraded, undefined, o?.reason);
  assert.deepEqual([o?.valid, o?.success, o?.fair], [false, false, true]);
  assert.equal(o?.metrics["exact.correct"], 0);
  assert.match(o?.reason ?? "", /^exact: /);
});

Deno.test("a composite is ungraded when any component is, naming it", async () => {
  const g = graph([
    ...COMPOSITE.map((l) =>
      l.includes("print(json.dumps") ? "            print('not json')" : l
    ),
  ]);
  const o = await grade(g, "42");
  assert.equal(o?.ungraded, "grader_invalid_output");
  assert.equal(o?.success, false);
  assert.match(o?.reason ?? "", /component "tests" \(command\): g\.yaml/);
});

Deno.test("a composite's component may be a grader kind the caller passes in (e.g. llm_judge)", async () => {
  const g = graph([
    "outcome:",
    "  grader: composite",
    "  params:",
    "    graders:",
    "      judged: { grader: llm_judge, params: { model: judge, rubric: 'Rate {{ answer }}', answer: coder.note } }",
    "      exact: { grader: exact_match, params: { answer: coder.solution } }",
    "  success: { metric: judged.normalized_score, at_least: 0.5 }",
  ]);
  const seen: unknown[] = [];
  const judge: Grader = (input) => {
    seen.push([input.graph.outcome?.grader, input.graph.outcome?.answer_ref]);
    return Promise.resolve({
      valid: true,
      correct: null,
      metrics: { score: 8, normalized_score: 0.8 },
      fair: false,
      answer: "n",
      expected: null,
      summary: "good",
    });
  };
  const o = await grade(g, "42", "n", {
    ...grading,
    graders: { llm_judge: judge },
  });
  assert.deepEqual(seen, [["llm_judge", { role: "coder", output: "note" }]]);
  assert.deepEqual([o?.success, o?.metrics], [true, {
    "judged.score": 8,
    "judged.normalized_score": 0.8,
    "exact.correct": 1,
  }]);
  const missing = await grade(g, "42", "n");
  assert.equal(missing?.ungraded, "grader_missing");
  assert.match(
    missing?.reason ?? "",
    /component "judged": the "llm_judge" grader/,
  );
});
