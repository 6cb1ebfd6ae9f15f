import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import {
  compileFile,
  type CompileResult,
  compileSpec,
  type ExecutionGraph,
} from "../dsl/mod.ts";

const YAML_SPECS = [
  "pipelines/math.yaml",
  "pipelines/dsbench.yaml",
  "pipelines/debate.yaml",
];

function graphOf(result: CompileResult): ExecutionGraph {
  assert.ok(
    result.ok,
    result.ok ? "" : JSON.stringify(result.diagnostics, null, 2),
  );
  return result.graph;
}

function role(graph: ExecutionGraph, id: string) {
  const r = graph.roles.find((x) => x.id === id);
  assert.ok(r, `role ${id}`);
  return r;
}

Deno.test("every shipped spec compiles without errors", async () => {
  for await (const entry of Deno.readDir("pipelines")) {
    if (!entry.isFile || !/\.(yaml|ts)$/.test(entry.name)) continue;
    const path = `pipelines/${entry.name}`;
    const result = path.endsWith(".ts")
      ? compileSpec((await import(`../${path}`)).default, { file: path })
      : compileFile(path);
    graphOf(result);
  }
});

Deno.test("math.yaml is MAPPA's MathChat: solver -> executor (2 turns, python) -> verifier", () => {
  const g = graphOf(
    compileFile("pipelines/math.yaml", { env: () => undefined }),
  );
  assert.deepEqual(g.stages, [["problem_solver"], ["code_executor"], [
    "verifier",
  ]]);
  assert.deepEqual(g.roles.map((r) => [r.id, r.max_turns, r.tools]), [
    ["problem_solver", 1, []],
    ["code_executor", 2, ["python"]],
    ["verifier", 1, []],
  ]);
  assert.equal(g.tools.python!.timeout_s, 30);
  // Outcome facts reach only the verifier's coach, and the answer is graded from its boxed output.
  assert.deepEqual(
    g.roles.filter((r) => r.coach_sees_outcome).map((r) => r.id),
    ["verifier"],
  );
  assert.deepEqual(role(g, "verifier").sees, {
    code_executor: ["final_text", "last_tool_output"],
  });
  assert.deepEqual(role(g, "verifier").outputs, {
    answer: { extract: "last_boxed" },
  });
  assert.equal(g.outcome?.grader, "math_equivalence");
  assert.deepEqual(g.outcome?.answer_ref, {
    role: "verifier",
    output: "answer",
  });
  assert.deepEqual(g.dataset.splits.train!.exclude_overlap_with, [
    "aime_2025",
    "amc",
  ]);
  assert.equal(
    g.dataset.splits.aime_2025!.source,
    "pipelines/data/math/aime_2025.json",
  );
  // aime_2025.json rows have no id: tasks are numbered by row.
  assert.equal(g.dataset.fields.id, undefined);
  // MAPPA gives every agent the boxed-answer suffix.
  for (const id of ["problem_solver", "code_executor"]) {
    assert.match(
      role(g, id).prompts.user,
      /put your final answer within \\boxed\{\}\.\n$/,
      id,
    );
  }
  const verifierRubric = g.coach!.rubrics[role(g, "verifier").rubric!]!;
  assert.equal(verifierRubric.name, "math_verifier");
  assert.deepEqual(verifierRubric.caps, [{
    id: "wrong_answer",
    metric: "correct",
    bands: [{ at_least: 1, max_score: 10 }, { max_score: 4 }],
  }]);
  assert.equal(
    g.coach!.rubrics[role(g, "problem_solver").rubric!]!.name,
    "math_process",
  );
  // With no endpoint configured the models carry an empty base_url: the runtime falls back to the demo policy.
  assert.equal(g.models.actor!.base_url, "");
});

Deno.test("math.yaml reads endpoints from the environment", () => {
  const env: Record<string, string> = {
    MAPPA_ACTOR_URL: "http://127.0.0.1:8000/v1",
    MAPPA_ACTOR_MODEL: "tiny",
  };
  const g = graphOf(compileFile("pipelines/math.yaml", { env: (n) => env[n] }));
  assert.equal(g.models.actor!.base_url, "http://127.0.0.1:8000/v1");
  assert.equal(g.models.actor!.model, "tiny");
});

Deno.test("dsbench.yaml declares the DSBench file contracts and 4 turns per role", () => {
  const g = graphOf(compileFile("pipelines/dsbench.yaml"));
  assert.deepEqual(g.roles.map((r) => [r.id, r.max_turns]), [
    ["data_engineer", 4],
    ["modeler", 4],
    ["analyst", 4],
  ]);
  const required = (id: string) =>
    role(g, id).produces.filter((p) => p.required).map((p) => p.path);
  assert.deepEqual(required("data_engineer"), [
    "X_train.pkl",
    "y_train.pkl",
    "X_test.pkl",
  ]);
  assert.deepEqual(required("modeler"), ["model.pkl"]);
  assert.deepEqual(required("analyst"), ["submission.csv"]);
  assert.deepEqual(g.edges, [
    {
      from: "data_engineer",
      to: "modeler",
      files: ["X_train.pkl", "y_train.pkl"],
    },
    { from: "modeler", to: "analyst", files: ["model.pkl"] },
  ]);
  // Files that skip a role or come from the task flow too, each from its nearest producer.
  assert.deepEqual(g.flows, [
    {
      from: "task",
      from_task: true,
      to: "data_engineer",
      files: ["train.csv", "test.csv"],
    },
    {
      from: "data_engineer",
      from_task: false,
      to: "modeler",
      files: ["X_train.pkl", "y_train.pkl"],
    },
    { from: "task", from_task: true, to: "analyst", files: ["test.csv"] },
    {
      from: "data_engineer",
      from_task: false,
      to: "analyst",
      files: ["X_test.pkl"],
    },
    { from: "modeler", from_task: false, to: "analyst", files: ["model.pkl"] },
  ]);
  assert.deepEqual(role(g, "analyst").upstream, ["data_engineer", "modeler"]);
  // The summaries the prompts ask to print reach the next roles (MAPPA forwarded final text only).
  assert.deepEqual(role(g, "modeler").sees, {
    data_engineer: ["final_text", "files", "last_tool_output"],
  });
  assert.deepEqual(role(g, "analyst").sees, {
    data_engineer: ["final_text", "files", "last_tool_output"],
    modeler: ["final_text", "files", "last_tool_output"],
  });
  for (const id of ["modeler", "analyst"]) {
    assert.match(
      role(g, id).prompts.user,
      /Printed summary[^\n]*\n\{\{ upstream\.data_engineer\.last_tool_output/,
      id,
    );
  }
  assert.equal(g.train?.reward.scale, 0.1);
  const analystRubric = g.coach!.rubrics[role(g, "analyst").rubric!]!;
  // One cap on the relative gap to the task's constant baseline, the same scale for every metric.
  assert.deepEqual(analystRubric.caps.map((c) => c.metric), ["score"]);
  assert.deepEqual(analystRubric.caps[0]!.bands.map((b) => b.max_score), [
    9,
    8,
    6,
    4,
    3,
  ]);
  // No fixed fair values: an invalid submission scores as the task's build-time baseline.
  assert.deepEqual(g.outcome?.fair, {});
});

Deno.test("debate.yaml repeats proponent and opponent in a bounded loop before the judge", () => {
  const g = graphOf(compileFile("pipelines/debate.yaml"));
  assert.deepEqual(g.loops, [{
    id: "rounds",
    roles: ["proponent", "opponent"],
    max_rounds: 3,
  }]);
  assert.equal(role(g, "proponent").loop, "rounds");
  assert.equal(role(g, "judge").loop, undefined);
  assert.equal(role(g, "judge").trainable, false);
  assert.deepEqual(g.train, undefined);
  // The coach reads the description: it must name the exact line the verdict regex extracts.
  const judge = role(g, "judge");
  const verdict = judge.outputs.verdict!;
  assert.equal(verdict.extract, "regex");
  if (verdict.extract === "regex") {
    assert.match(judge.description, /VERDICT: TRUE or VERDICT: FALSE/);
    assert.match("VERDICT: TRUE", new RegExp(verdict.pattern));
  }
  const judgeRubric = g.coach!.rubrics[judge.rubric!]!;
  assert.equal(judgeRubric.name, "debate_judge");
  assert.deepEqual(judgeRubric.caps, [{
    id: "wrong_verdict",
    metric: "correct",
    bands: [{ at_least: 1, max_score: 10 }, { max_score: 3 }],
  }]);
});

Deno.test("review.ts fans out to two roles that may run concurrently and fans back in", async () => {
  const spec = (await import("../pipelines/review.ts")).default;
  const g = graphOf(compileSpec(spec, { file: "pipelines/review.ts" }));
  assert.deepEqual(g.stages, [["planner"], ["prover", "refuter"], ["writer"]]);
  assert.deepEqual(role(g, "planner").produces[0]!.schema, {
    type: "object",
    required: ["prove", "refute"],
  });
  // The writer has its own rubric, with the same cap on a wrong verdict as the debate judge.
  const writerRubric = g.coach!.rubrics[role(g, "writer").rubric!]!;
  assert.equal(writerRubric.name, "review_writer");
  assert.deepEqual(writerRubric.caps, [{
    id: "wrong_verdict",
    metric: "correct",
    bands: [{ at_least: 1, max_score: 10 }, { max_score: 3 }],
  }]);
});

Deno.test("shipped YAML specs and rubrics validate, as written, against the published JSON Schemas", async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const pipeline = ajv.compile(
    JSON.parse(await Deno.readTextFile("schema/pipeline.schema.json")),
  );
  for (const path of YAML_SPECS) {
    const text = await Deno.readTextFile(path);
    assert.match(
      text,
      /^# yaml-language-server: \$schema=\.\.\/schema\/pipeline\.schema\.json$/m,
      path,
    );
    assert.ok(
      pipeline(parse(text)),
      `${path}: ${JSON.stringify(pipeline.errors, null, 2)}`,
    );
  }
  const rubric = ajv.compile(
    JSON.parse(await Deno.readTextFile("schema/rubric.schema.json")),
  );
  for await (const entry of Deno.readDir("pipelines/rubrics")) {
    const text = await Deno.readTextFile(`pipelines/rubrics/${entry.name}`);
    assert.ok(
      rubric(parse(text)),
      `${entry.name}: ${JSON.stringify(rubric.errors, null, 2)}`,
    );
  }
});

Deno.test("spec_hash ignores comments and formatting but not meaning", async () => {
  const text = await Deno.readTextFile("pipelines/math.yaml");
  const base = graphOf(compileFile("pipelines/math.yaml")).spec_hash;
  const reformatted = text.replace(/^#.*$/gm, "# another comment").replace(
    /\n\n/g,
    "\n\n\n",
  );
  const read = (
    p: string,
  ) => (p === "pipelines/math.yaml" ? reformatted : Deno.readTextFileSync(p));
  assert.equal(
    graphOf(compileFile("pipelines/math.yaml", { readFile: read })).spec_hash,
    base,
  );
  const changed = text.replace("max_turns: 2", "max_turns: 3");
  const readChanged = (
    p: string,
  ) => (p === "pipelines/math.yaml" ? changed : Deno.readTextFileSync(p));
  assert.notEqual(
    graphOf(compileFile("pipelines/math.yaml", { readFile: readChanged }))
      .spec_hash,
    base,
  );
});
