import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { compile, compileModule, type ExecutionGraph } from "../../dsl/mod.ts";
import { gradeEpisode } from "./grade_episode.ts";
import { fixtureTask } from "../../tests/fixtures/graph_fixture.ts";

const DEFINE = resolve("dsl/define_pipeline.ts");

/** Writes a TS spec whose outcome is `outcome` (TypeScript source) and compiles it with compileModule. */
async function tsSpec(outcome: string, name = "spec") {
  const dir = await Deno.makeTempDir({ prefix: "mappa-fn-" });
  const file = join(dir, `${name}.ts`);
  await Deno.writeTextFile(
    file,
    `import { definePipeline } from ${JSON.stringify(DEFINE)};
export default definePipeline({
  version: 1,
  name: "fn",
  models: { m: { model: "x" } },
  roles: [{ id: "solver", description: "d", model: "m", prompts: { user: "hi" }, outputs: { answer: { extract: "final_text" } } }],
  dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } },
  outcome: ${outcome},
});
`,
  );
  try {
    return await compileModule(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function graphOf(r: Awaited<ReturnType<typeof tsSpec>>): ExecutionGraph {
  assert.ok(r.ok, JSON.stringify(!r.ok && r.diagnostics));
  return r.graph;
}

const task = fixtureTask({ id: "t", inputs: { q: "6*7" } });

const METRICS =
  `params: { metrics: { correct: { min: 0, max: 1, comparable: true } }, timeout_s: 5 }`;

Deno.test("a function grader of a TS spec grades in-process, its result checked like a command grader's", async (t) => {
  const g = graphOf(
    await tsSpec(`{
    grader: "function",
    fn: async ({ task, expected, outputs, workspace }) => {
      const files = [...Deno.readDirSync(workspace)].map((e) => e.name).sort();
      return {
        metrics: { correct: outputs.solver.answer === expected ? 1 : 0 },
        summary: task.inputs.q + " " + files.join(","),
      };
    },
    ${METRICS},
    success: { metric: "correct", at_least: 1 },
  }`),
  );
  const ws = await Deno.makeTempDir();
  await Deno.writeTextFile(join(ws, "a.txt"), "x");
  await Deno.symlink("/etc/passwd", join(ws, "link"));
  try {
    await t.step("right and wrong answers", async () => {
      const right = await gradeEpisode({
        graph: g,
        task,
        outputs: { solver: { answer: "42" } },
        workspace: ws,
      });
      assert.deepEqual(
        [right?.grader, right?.success, right?.metrics, right?.summary],
        ["function", true, { correct: 1 }, "6*7 a.txt"],
      );
      const wrong = await gradeEpisode({
        graph: g,
        task,
        outputs: { solver: { answer: "41" } },
        workspace: ws,
      });
      assert.deepEqual([wrong?.success, wrong?.metrics], [false, {
        correct: 0,
      }]);
    });
  } finally {
    await Deno.remove(ws, { recursive: true });
  }
});

Deno.test("a function grader that throws, hangs or returns the wrong metrics leaves the episode ungraded", async (t) => {
  const cases: [string, string, string, RegExp][] = [
    [
      "a throw",
      `() => { throw new Error("db down"); }`,
      "grader_error",
      /threw: db down/,
    ],
    [
      "an out-of-range metric",
      `() => ({ metrics: { correct: 3 } })`,
      "grader_invalid_output",
      /at "\/metrics\/correct" must be <= 1/,
    ],
    [
      "a NaN metric",
      `() => ({ metrics: { correct: NaN } })`,
      "grader_invalid_output",
      /"correct" = NaN: metrics must be finite/,
    ],
    [
      "a circular answer",
      `() => { const a: Record<string, unknown> = {}; a.self = a; return { metrics: { correct: 1 }, answer: a }; }`,
      "grader_invalid_output",
      /returned a value that is not JSON/,
    ],
    [
      "a huge answer",
      `() => ({ metrics: { correct: 1 }, answer: "x".repeat(2_000_000) })`,
      "grader_invalid_output",
      /it must return a JSON object of at most 1048576 characters/,
    ],
    [
      "an undeclared metric",
      `() => ({ metrics: { correct: 1, extra: 1 } })`,
      "grader_invalid_output",
      /additional properties \("extra"\)/,
    ],
  ];
  for (const [name, fn, kind, reason] of cases) {
    await t.step(name, async () => {
      const g = graphOf(
        await tsSpec(`{ grader: "function", fn: ${fn}, ${METRICS} }`),
      );
      const o = await gradeEpisode({
        graph: g,
        task,
        outputs: { solver: { answer: "42" } },
        workspace: "",
      });
      assert.equal(o?.ungraded, kind, o?.reason);
      assert.equal(o?.success, false);
      assert.match(o?.reason ?? "", reason);
    });
  }
  await t.step("past the timeout", async () => {
    const g = graphOf(
      await tsSpec(
        `{ grader: "function", fn: () => new Promise(() => {}), ${
          METRICS.replace("timeout_s: 5", "timeout_s: 0.3")
        } }`,
      ),
    );
    const o = await gradeEpisode({
      graph: g,
      task,
      outputs: { solver: { answer: "42" } },
      workspace: "",
    });
    assert.equal(o?.ungraded, "grader_timeout");
    assert.match(o?.reason ?? "", /ran past its timeout_s \(0\.3 s\)/);
  });
});

Deno.test("the spec hash changes with the grader function's source", async () => {
  const a = graphOf(
    await tsSpec(
      `{ grader: "function", fn: () => ({ metrics: { correct: 1 } }), ${METRICS} }`,
    ),
  );
  const b = graphOf(
    await tsSpec(
      `{ grader: "function", fn: () => ({ metrics: { correct: 0 } }), ${METRICS} }`,
    ),
  );
  const a2 = graphOf(
    await tsSpec(
      `{ grader: "function", fn: () => ({ metrics: { correct: 1 } }), ${METRICS} }`,
      "other",
    ),
  );
  assert.notEqual(a.spec_hash, b.spec_hash);
  assert.equal(a.spec_hash, a2.spec_hash);
});

Deno.test("a YAML spec cannot hold a function grader", () => {
  const r = compile(
    [
      "version: 1",
      "name: g",
      "models: { m: { model: x } }",
      "roles:",
      "  - { id: solver, description: d, model: m, prompts: { user: hi } }",
      'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }',
      "outcome:",
      "  grader: function",
      "  fn: '() => ({ metrics: { correct: 1 } })'",
      "  params: { metrics: { correct: {} } }",
    ].join("\n"),
    { file: "g.yaml" },
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.path.join("."), d.position?.line]),
    [["invalid_value", "outcome.grader", 8]],
  );
  assert.match(r.diagnostics[0]!.message, /function grader in a YAML spec/);
});

Deno.test("a function grader works as a composite's component", async () => {
  const g = graphOf(
    await tsSpec(`{
    grader: "composite",
    params: {
      graders: {
        fn: { grader: "function", fn: ({ outputs }) => ({ metrics: { correct: outputs.solver.answer === "42" ? 1 : 0 } }), ${METRICS} },
        exact: { grader: "exact_match", params: { answer: "solver.answer" } },
      },
    },
    success: { all: [{ metric: "fn.correct", at_least: 1 }, { metric: "exact.correct", at_least: 1 }] },
  }`),
  );
  assert.equal(typeof g.outcome?.functions?.fn, "function");
  const o = await gradeEpisode({
    graph: g,
    task,
    outputs: { solver: { answer: "42" } },
    workspace: "",
  });
  assert.deepEqual([o?.success, o?.metrics], [true, {
    "fn.correct": 1,
    "exact.correct": 1,
  }]);
});
