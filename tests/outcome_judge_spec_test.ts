import assert from "node:assert/strict";
import { join } from "node:path";
import { compile } from "../dsl/mod.ts";
import { modelConcurrency } from "../runtime/model_concurrency.ts";
import { writeFiles } from "./fixtures/compile_yaml.ts";

function spec(params: string, extra: string[] = []): string {
  return [
    "version: 1",
    "name: judged",
    "models: { m: { model: x }, judge: { model: j } }",
    "roles:",
    "  - { id: analyst, description: d, model: m, prompts: { user: hi }, outputs: { report: { extract: final_text } } }",
    'dataset: { splits: { eval: "https://x/y" }, fields: { answer: a, inputs: { question: q } } }',
    "outcome:",
    "  grader: llm_judge",
    `  params: ${params}`,
    ...extra,
  ].join("\n");
}

function codes(text: string, file = "judged.yaml") {
  const result = compile(text, { file });
  return result.ok ? [] : result.diagnostics.map((d) => ({
    code: d.code,
    line: d.position?.line,
    column: d.position?.column,
    file: d.file,
    message: d.message,
  }));
}

Deno.test("compile() accepts an llm_judge outcome, its score and normalized_score metrics, and rejects others", () => {
  const ok = compile(
    spec(
      "{ model: judge, answer: analyst.report, rubric: 'Q {{ task.question }} E {{ expected }} A {{ answer }} {{ outputs.analyst.report }} {{ scale.max }}' }",
      [
        "  success: { metric: score, at_least: 7 }",
        "  fair: { score: 0, normalized_score: 0 }",
      ],
    ),
    { file: "judged.yaml" },
  );
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.diagnostics));
  const outcome = ok.graph.outcome!;
  assert.equal(outcome.grader, "llm_judge");
  assert.deepEqual(outcome.answer_ref, { role: "analyst", output: "report" });
  assert.deepEqual(
    codes(spec("{ model: judge, answer: analyst.report, rubric: 'x' }", [
      "  success: { metric: correct, at_least: 1 }",
    ])).map((d) => [d.code, d.line]),
    [["unknown_metric", 10]],
  );
});

Deno.test("compile() reports an outcome judge model that is not in models, where it is written", () => {
  const diags = codes(
    spec("{ model: juge, answer: analyst.report, rubric: 'x' }"),
  );
  assert.deepEqual(diags.map((d) => [d.code, d.line, d.column]), [[
    "unknown_model",
    9,
    20,
  ]]);
  assert.match(diags[0]!.message, /the outcome judge/);
});

Deno.test("compile() checks the outcome judge's template variables: task fields, answers, files only when asked", () => {
  const one = codes(
    spec(
      "{ model: judge, answer: analyst.report, rubric: '{{ task.questoin }} {{ answers.a }} {{ files }} {{ outputs.analyst.nope }} {{ action.output }}' }",
    ),
  );
  assert.deepEqual(one.map((d) => d.code), [
    "unknown_template_variable",
    "unknown_template_variable",
    "unknown_template_variable",
    "unknown_template_variable",
    "unknown_template_variable",
  ]);
  const named = codes(
    spec(
      "{ model: judge, answer: { main: analyst.report }, files: true, rubric: '{{ answers.main }} {{ files }} {{ answer }} {{ answers.other }}' }",
    ),
  );
  assert.deepEqual(
    named.map((d) => d.message),
    [
      `Cannot resolve template variable "answer" in the outcome judge's rubric: "answer" is not in its context`,
      `Cannot resolve template variable "answers.other" in the outcome judge's rubric: "answers" has no "other"`,
    ],
  );
});

Deno.test("compile() locates an outcome judge template error inside its file:// rubric, and a rubric file sets the scale", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outcome_judge_spec_" });
  try {
    await writeFiles(dir, {
      "outcome.md": "Question: {{ task.question }}\nAnswer: {{ answr }}\n",
      "outcome.yaml":
        "name: graded\nscale: { min: 1, max: 5 }\ntemplate: file://outcome.md\n",
    });
    const file = join(dir, "judged.yaml");
    const bad = codes(
      spec(
        "{ model: judge, answer: analyst.report, rubric: file://outcome.md }",
      ),
      file,
    );
    assert.deepEqual(bad.map((d) => [d.code, d.file, d.line, d.column]), [[
      "unknown_template_variable",
      join(dir, "outcome.md"),
      2,
      12,
    ]]);
    await Deno.writeTextFile(
      join(dir, "outcome.md"),
      "Question: {{ task.question }}\nAnswer: {{ answer }}\n",
    );
    const good = compile(
      spec(
        "{ model: judge, answer: analyst.report, rubric: file://outcome.yaml }",
      ),
      { file },
    );
    assert.ok(good.ok, JSON.stringify(!good.ok && good.diagnostics));
    const params = good.graph.outcome!.params as {
      rubric: { name: string; scale: unknown; template: string };
    };
    assert.deepEqual(
      [params.rubric.name, params.rubric.scale, params.rubric.template],
      [
        "graded",
        { min: 1, max: 5 },
        "Question: {{ task.question }}\nAnswer: {{ answer }}\n",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile() rejects unknown outcome judge params and a rubric with checks (only template and scale)", () => {
  assert.deepEqual(
    codes(
      spec(
        "{ model: judge, answer: analyst.report, rubric: 'x', temprature: 0 }",
      ),
    ).map((d) => d.code),
    ["unrecognized_keys"],
  );
  assert.deepEqual(
    codes(
      spec(
        "{ model: judge, answer: analyst.report, rubric: { template: 'x', checks: [] } }",
      ),
    ).map((d) => d.code).slice(0, 1),
    ["unrecognized_keys"],
  );
});

Deno.test("compile() checks an llm_judge component of a composite: its model, its template, its <id>.score metric", () => {
  const composite = (judge: string, success: string) =>
    [
      "version: 1",
      "name: judged",
      "models: { m: { model: x }, judge: { model: j } }",
      "roles:",
      "  - { id: analyst, description: d, model: m, prompts: { user: hi }, outputs: { report: { extract: final_text } } }",
      'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: { question: q } } }',
      "outcome:",
      "  grader: composite",
      "  params:",
      "    graders:",
      "      exact: { grader: exact_match, params: { answer: analyst.report } }",
      `      quality: { grader: llm_judge, params: ${judge} }`,
      `  success: ${success}`,
    ].join("\n");
  const ok = compile(
    composite(
      "{ model: judge, answer: analyst.report, rubric: 'Q {{ task.question }} A {{ answer }}' }",
      "{ all: [{ metric: exact.correct, at_least: 1 }, { metric: quality.normalized_score, at_least: 0.5 }] }",
    ),
    { file: "judged.yaml" },
  );
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.diagnostics));
  const bad = codes(composite(
    "{ model: juge, answer: analyst.report, rubric: 'A {{ answr }}' }",
    "{ metric: quality.score, at_least: 7 }",
  ));
  assert.deepEqual(bad.map((d) => [d.code, d.line]), [
    ["unknown_model", 12],
    ["unknown_template_variable", 12],
  ]);
});

Deno.test("compile() warns when the outcome judge is served by the model family of the role it judges", () => {
  const text = (judgeFamily: string) =>
    spec("{ model: judge, answer: analyst.report, rubric: 'A {{ answer }}' }")
      .replace(
        "models: { m: { model: x }, judge: { model: j } }",
        `models: { m: { model: x, family: qwen }, judge: { model: j, family: ${judgeFamily} } }`,
      );
  const same = compile(text("qwen"), { file: "judged.yaml" });
  assert.ok(same.ok);
  assert.deepEqual(
    same.warnings.map((w) => [w.code, w.path.join(".")]),
    [["self_preference", "outcome.params.model"]],
  );
  const other = compile(text("gemini"), { file: "judged.yaml" });
  assert.ok(other.ok);
  assert.deepEqual(other.warnings, []);
});

Deno.test("compile() refuses an empty judge scale and a success threshold off the judge's scale", () => {
  assert.deepEqual(
    codes(spec(
      "{ model: judge, answer: analyst.report, rubric: { scale: { min: 5, max: 5 }, template: 'A {{ answer }}' } }",
    )).map((d) => [d.code, d.line]),
    [["score_out_of_scale", 9]],
  );
  assert.deepEqual(
    codes(spec(
      "{ model: judge, answer: analyst.report, rubric: 'A {{ answer }}' }",
      ["  success: { all: [{ metric: score, at_least: 70 }, { metric: normalized_score, at_most: 2 }] }"],
    )).map((d) => [d.code, d.line]),
    [["score_out_of_scale", 10], ["score_out_of_scale", 10]],
  );
  assert.deepEqual(
    codes(spec(
      "{ model: judge, answer: analyst.report, rubric: 'A {{ answer }}' }",
      ["  success: { metric: score, at_least: 7 }"],
    )),
    [],
  );
});

Deno.test("modelConcurrency() gives an outcome judge's model one request per episode in flight", () => {
  const compiled = compile(
    spec("{ model: judge, answer: analyst.report, rubric: 'A {{ answer }}' }"),
    { file: "judged.yaml" },
  );
  assert.ok(compiled.ok);
  const sized = modelConcurrency(compiled.graph, {
    episodes: 8,
    coached: false,
  });
  assert.deepEqual(
    sized.map((m) => [m.model, m.demand, m.limit]),
    [["m", 8, 8], ["judge", 8, 8]],
  );
});

Deno.test("compile() refuses {{ expected }} in the outcome judge's rubric when the dataset declares no answer field", () => {
  const text = spec(
    "{ model: judge, answer: analyst.report, rubric: 'E {{ expected }} A {{ answer }}' }",
  ).replace("fields: { answer: a, inputs:", "fields: { inputs:");
  const result = compile(text, { file: "judged.yaml" });
  assert.ok(!result.ok);
  assert.deepEqual(
    result.diagnostics.map((d) => [d.code, d.hint]),
    [[
      "unknown_template_variable",
      "declare dataset.fields.answer: the row field holding the expected answer",
    ]],
  );
});
