import assert from "node:assert/strict";
import { join } from "node:path";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import {
  compiledFileGraph,
  fixtureTask,
  oneRoleSpec,
} from "../../tests/fixtures/graph_fixture.ts";
import { BwrapSandbox } from "../sandbox/bwrap_sandbox.ts";
import { gradeEpisode, type GradeEpisodeOptions } from "./grade_episode.ts";

const sandbox = await BwrapSandbox.create();
// Slot 85 belongs to this file, so parallel test files never share a uid.
const grading: GradeEpisodeOptions = {
  sandbox,
  withSlot: (fn) => fn(85),
};

const ROLES = oneRoleSpec("coder", "solution");

/** Compiles a spec whose outcome is `outcome`, with `files` (e.g. the grader script) beside it. */
function graph(
  outcome: string[],
  files: Record<string, string> = {},
): Promise<ExecutionGraph> {
  return compiledFileGraph([...ROLES, ...outcome], files);
}

const task = fixtureTask({
  category: "easy",
  inputs: { q: "add" },
  answer: { tests: [[1, 2, 3]] },
});

/** Grades `g` in the sandbox on `task`, the coder's solution `solution`, with no workspace. */
function grade(
  g: ExecutionGraph,
  solution: string | null,
): ReturnType<typeof gradeEpisode> {
  return gradeEpisode({
    graph: g,
    task,
    outputs: { coder: { solution } },
    workspace: "",
  }, grading);
}

const METRICS = [
  "    metrics:",
  "      pass_rate: { min: 0, max: 1, comparable: true }",
  "      tests_passed: { min: 0 }",
];

function commandOutcome(
  program: string[],
  extra: string[] = [],
): string[] {
  return [
    "outcome:",
    "  grader: command",
    "  params:",
    "    language: python",
    "    answer: coder.solution",
    "    timeout_s: 5",
    ...METRICS,
    "    code: |",
    ...program.map((l) => `      ${l}`),
    ...extra,
  ];
}

async function withWorkspace<T>(
  files: Record<string, string>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const parent = await Deno.makeTempDir({ prefix: "mappa-cg-ws-" });
  await Deno.chmod(parent, 0o755);
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(parent, name), text);
    }
    return await fn(parent);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

Deno.test("a command grader reads the task, the expected answer and the outputs on stdin and the workspace read-only", async () => {
  const g = await graph([
    "outcome:",
    "  grader: command",
    "  params:",
    "    script: file://graders/check.py",
    ...METRICS,
    "    answer: coder.solution",
    "  success: { metric: pass_rate, at_least: 1 }",
  ], {
    "graders/check.py": [
      "import json, sys",
      "d = json.load(sys.stdin)",
      "src = open('/workspace/solution.py').read()",
      "ok = d['answer'] == 'done' and d['expected'] == {'tests': [[1, 2, 3]]} and 'def add' in src",
      "ok = ok and d['task'] == {'id': 't1', 'split': 'eval', 'category': 'easy', 'inputs': {'q': 'add'}}",
      "ok = ok and d['outputs'] == {'coder': {'solution': 'done'}} and d['episode_id'] == 'eval:t1'",
      "print(json.dumps({'metrics': {'pass_rate': 1.0 if ok else 0.0, 'tests_passed': 3}, 'summary': 'all good', 'answer': src}))",
    ].join("\n"),
  });
  assert.equal(g.outcome?.programs?.[""]?.language, "python");
  assert.match(g.outcome?.programs?.[""]?.source ?? "", /graders\/check\.py$/);
  const o = await withWorkspace(
    { "solution.py": "def add(a, b): return a + b\n" },
    (workspace) =>
      gradeEpisode({
        graph: g,
        task,
        outputs: { coder: { solution: "done" } },
        workspace,
      }, { ...grading, episodeId: "eval:t1" }),
  );
  assert.equal(o?.ungraded, undefined, o?.reason);
  assert.deepEqual(
    [o?.valid, o?.success, o?.metrics, o?.summary, o?.fair],
    [true, true, { pass_rate: 1, tests_passed: 3 }, "all good", false],
  );
  assert.match(String(o?.answer), /def add/);
});

Deno.test("a command grader's output that is not its declared metrics leaves the episode ungraded, saying what was wrong", async (t) => {
  const cases: [string, string, string, RegExp][] = [
    [
      "a metric out of range",
      `print('{"metrics": {"pass_rate": 2, "tests_passed": 1}}')`,
      "grader_invalid_output",
      /at "\/metrics\/pass_rate" must be <= 1/,
    ],
    [
      "a missing metric",
      `print('{"metrics": {"pass_rate": 1}}')`,
      "grader_invalid_output",
      /must have required property 'tests_passed'/,
    ],
    [
      "an undeclared metric",
      `print('{"metrics": {"pass_rate": 1, "tests_passed": 1, "bonus": 5}}')`,
      "grader_invalid_output",
      /additional properties \("bonus"\)/,
    ],
    [
      "a NaN",
      "import json; print(json.dumps({'metrics': {'pass_rate': float('nan'), 'tests_passed': 1}}))",
      "grader_invalid_output",
      /did not print exactly one JSON value/,
    ],
    [
      "a string metric",
      `print('{"metrics": {"pass_rate": "1", "tests_passed": 1}}')`,
      "grader_invalid_output",
      /must be number/,
    ],
    [
      "not JSON",
      "print('PASS')",
      "grader_invalid_output",
      /did not print exactly one JSON value/,
    ],
    [
      "a crash",
      "import sys\nprint('trace here', file=sys.stderr)\nsys.exit(3)",
      "grader_error",
      /exited with status 3; stderr: trace here/,
    ],
    [
      "a timeout",
      "while True: pass",
      "grader_timeout",
      /ran past its wall-clock limit/,
    ],
  ];
  for (const [name, code, kind, reason] of cases) {
    await t.step(name, async () => {
      const g = await graph(
        commandOutcome(code.split("\n"), [
          "  success: { metric: pass_rate, at_least: 0 }",
          "  fair: { pass_rate: 0 }",
        ]).map((l) =>
          l === "    timeout_s: 5" && name === "a timeout"
            ? "    timeout_s: 1"
            : l
        ),
      );
      const o = await grade(g, "x");
      assert.equal(o?.ungraded, kind, o?.reason);
      assert.equal(o?.success, false);
      assert.match(o?.reason ?? "", reason);
      assert.match(o?.reason ?? "", /g\.yaml \(outcome\.params\.code\)/);
      assert.deepEqual(o?.metrics, { pass_rate: 0 });
    });
  }
});

Deno.test("valid: false from a command grader is the agents' failure, at the spec's fair values", async () => {
  const g = await graph(commandOutcome([
    `print('{"metrics": {"pass_rate": 1, "tests_passed": 9}, "valid": false, "reason": "no solution.py"}')`,
  ], ["  fair: { pass_rate: 0, tests_passed: 0 }"]));
  const o = await grade(g, null);
  assert.equal(o?.ungraded, undefined);
  assert.deepEqual(
    [o?.valid, o?.success, o?.fair, o?.metrics, o?.reason],
    [false, false, true, { pass_rate: 0, tests_passed: 0 }, "no solution.py"],
  );
});

Deno.test("valid: false needs no metrics (any are not read); a valid result without them is invalid output", async () => {
  const g = await graph(commandOutcome([
    `print('{"valid": false, "reason": "empty", "metrics": {"pass_rate": -1}}')`,
  ], ["  fair: { pass_rate: 0 }"]));
  const o = await grade(g, null);
  assert.deepEqual([o?.ungraded, o?.valid, o?.metrics, o?.reason], [
    undefined,
    false,
    { pass_rate: 0 },
    "empty",
  ]);
  const h = await graph(commandOutcome([`print('{"valid": true}')`]));
  const bad = await grade(h, null);
  assert.equal(bad?.ungraded, "grader_invalid_output");
  assert.match(bad?.reason ?? "", /must have required property 'metrics'/);
});

Deno.test("a command grader without a sandbox leaves the episode ungraded", async () => {
  const g = await graph(commandOutcome(["print(1)"]));
  const o = await gradeEpisode({
    graph: g,
    task,
    outputs: {},
    workspace: "",
  });
  assert.equal(o?.ungraded, "grader_missing");
  assert.match(o?.reason ?? "", /no sandbox/);
});
