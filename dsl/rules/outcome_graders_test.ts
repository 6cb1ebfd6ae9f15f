import assert from "node:assert/strict";
import { join } from "node:path";
import { comparableMetrics, compileFile, outcomeMetrics } from "../mod.ts";

const HEAD = [
  "version: 1",
  "name: g",
  "models: { m: { model: x } }",
  "roles:",
  "  - { id: coder, description: d, model: m, prompts: { user: hi }, outputs: { solution: { extract: final_text } } }",
  'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }',
];

async function diagnose(outcome: string[], files: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "mappa-og-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await Deno.writeTextFile(
      join(dir, "g.yaml"),
      [...HEAD, ...outcome].join("\n"),
    );
    const r = compileFile(join(dir, "g.yaml"));
    return r.ok
      ? { ok: true as const, graph: r.graph, found: [] as string[] }
      : {
        ok: false as const,
        found: r.diagnostics.map((d) =>
          `${d.code} ${d.path.join(".")} ${d.position?.line}`
        ),
        messages: r.diagnostics.map((d) => d.message),
      };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the compiler reports a bad command grader declaration precisely", async (t) => {
  const cases: [string, string[], string[]][] = [
    ["no program", [
      "outcome: { grader: command, params: { metrics: { ok: {} } } }",
    ], ["missing_key outcome.grader 7"]],
    ["both script and code", [
      "outcome:",
      "  grader: command",
      "  params:",
      "    script: file://g.py",
      "    code: print(1)",
      "    metrics: { ok: {} }",
    ], ["conflicting_values outcome.params.code 11"]],
    ["a plain path as script", [
      "outcome: { grader: command, params: { script: g.py, metrics: { ok: {} } } }",
    ], ["invalid_value outcome.params.script 7"]],
    ["inline code without language", [
      "outcome: { grader: command, params: { code: print(1), metrics: { ok: {} } } }",
    ], ["missing_key outcome.params.code 7"]],
    ["a script of unknown language", [
      "outcome: { grader: command, params: { script: file://g.rb, metrics: { ok: {} } } }",
    ], ["invalid_value outcome.params.script 7"]],
    ["no metrics", [
      "outcome: { grader: command, params: { code: x, language: python, metrics: {} } }",
    ], ["too_small outcome.params.metrics 7"]],
    ["a comparable metric without a 0 to 1 range", [
      "outcome: { grader: command, params: { code: x, language: python, metrics: { r: { min: 0, max: 10, comparable: true } } } }",
    ], ["invalid_value outcome.params.metrics.r.comparable 7"]],
    ["min above max", [
      "outcome: { grader: command, params: { code: x, language: python, metrics: { r: { min: 2, max: 1 } } } }",
    ], ["invalid_value outcome.params.metrics.r.max 7"]],
    ["a success rule on an undeclared metric", [
      "outcome: { grader: command, params: { code: x, language: python, metrics: { pass_rate: {} } }, success: { metric: pass_rat, at_least: 1 } }",
    ], ["unknown_metric outcome.success.metric 7"]],
    ["a component with its own success and fair", [
      "outcome:",
      "  grader: composite",
      "  params:",
      "    graders:",
      "      t: { grader: command, params: { code: x, language: python, metrics: { r: {} } }, success: { metric: r, at_least: 1 }, fair: { r: 0 } }",
    ], [
      "invalid_value outcome.params.graders.t.fair 11",
      "invalid_value outcome.params.graders.t.success 11",
    ]],
    ["a composite's fair on an unnamespaced metric", [
      "outcome:",
      "  grader: composite",
      "  params: { graders: { t: { grader: command, params: { code: x, language: python, metrics: { r: {} } } } } }",
      "  fair: { r: 0 }",
    ], ["unknown_metric outcome.fair.r 10"]],
    ["a composite inside a composite", [
      "outcome:",
      "  grader: composite",
      "  params: { graders: { c: { grader: composite, params: { graders: {} } } } }",
    ], ["invalid_value outcome.params.graders.c.grader 9"]],
  ];
  for (const [name, outcome, expected] of cases) {
    await t.step(name, async () => {
      const r = await diagnose(outcome, { "g.py": "print(1)", "g.rb": "x" });
      assert.deepEqual(r.found.sort(), expected.sort(), JSON.stringify(r));
    });
  }
});

Deno.test("a command grader's script include gives the language and the program's source", async () => {
  const r = await diagnose([
    "outcome:",
    "  grader: command",
    "  params:",
    "    script: file://grade.py",
    "    metrics: { pass_rate: { min: 0, max: 1, comparable: true }, n: {} }",
  ], { "grade.py": "print('{}')\n" });
  assert.ok(r.ok, JSON.stringify(r));
  const program = r.graph.outcome?.programs?.[""];
  assert.equal(program?.language, "python");
  assert.equal(program?.code, "print('{}')\n");
  assert.match(program?.source ?? "", /grade\.py$/);
  assert.deepEqual(outcomeMetrics(r.graph.outcome), ["pass_rate", "n"]);
  assert.deepEqual(comparableMetrics(r.graph.outcome), ["pass_rate"]);
});

Deno.test("a composite's metrics and comparable metrics are namespaced by component", async () => {
  const r = await diagnose([
    "outcome:",
    "  grader: composite",
    "  params:",
    "    graders:",
    "      t: { grader: command, params: { code: x, language: python, metrics: { r: { min: 0, max: 1, comparable: true }, n: {} } } }",
    "      e: { grader: exact_match, params: { answer: coder.solution } }",
    "  success: { all: [{ metric: t.r, at_least: 1 }, { metric: e.correct, at_least: 1 }] }",
  ]);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(outcomeMetrics(r.graph.outcome), [
    "t.r",
    "t.n",
    "e.correct",
  ]);
  assert.deepEqual(comparableMetrics(r.graph.outcome), ["t.r", "e.correct"]);
});

Deno.test("a composite's components get their grader's own checks (regex patterns, submissions)", async () => {
  const r = await diagnose([
    "outcome:",
    "  grader: composite",
    "  params:",
    "    graders:",
    "      re: { grader: regex, params: { answer: coder.solution, pattern: '(a' } }",
    "      tab: { grader: tabular_metric, params: { submission: sub.csv, answers: answers } }",
  ]);
  assert.deepEqual(r.found.sort(), [
    "invalid_regex outcome.params.graders.re.params.pattern 11",
    "unproduced_input outcome.params.graders.tab.params.submission 12",
  ]);
});
