import assert from "node:assert/strict";
import {
  compiledGraph,
  fixtureTask,
  oneRoleSpec,
} from "../../tests/fixtures/graph_fixture.ts";
import { gradeEpisode } from "./grade_episode.ts";
import { GRADERS } from "./registry.ts";

function graph(outcome: string) {
  return compiledGraph([...oneRoleSpec("judge", "v"), outcome]);
}

const task = (answer: unknown) => fixtureTask({ id: "1", answer });

Deno.test("gradeEpisode() grades exact matches case-insensitively and decides success from correctness", async () => {
  const g = graph(
    "outcome: { grader: exact_match, params: { answer: judge.v } }",
  );
  const right = await gradeEpisode({
    graph: g,
    task: task("TRUE"),
    outputs: { judge: { v: " true " } },
    workspace: "",
  });
  assert.deepEqual([
    right?.valid,
    right?.correct,
    right?.success,
    right?.metrics,
  ], [true, true, true, { correct: 1 }]);
  const wrong = await gradeEpisode({
    graph: g,
    task: task("TRUE"),
    outputs: { judge: { v: "FALSE" } },
    workspace: "",
  });
  assert.deepEqual([wrong?.correct, wrong?.success, wrong?.fair], [
    false,
    false,
    false,
  ]);
});

Deno.test("gradeEpisode() fills fair values for a missing answer and applies the spec's success rule", async () => {
  const g = graph(
    "outcome: { grader: regex, params: { answer: judge.v, pattern: '^ok' }, success: { metric: correct, at_least: 1 }, fair: { correct: 0 } }",
  );
  const none = await gradeEpisode({
    graph: g,
    task: task(null),
    outputs: { judge: { v: null } },
    workspace: "",
  });
  assert.deepEqual([none?.valid, none?.success, none?.fair, none?.metrics], [
    false,
    false,
    true,
    { correct: 0 },
  ]);
  assert.match(none?.reason ?? "", /^no answer: judge\.v/);
  const ok = await gradeEpisode({
    graph: g,
    task: task(null),
    outputs: { judge: { v: "ok then" } },
    workspace: "",
  });
  assert.equal(ok?.success, true);
});

Deno.test("gradeEpisode() records nothing without an outcome grader", async () => {
  assert.equal(
    await gradeEpisode({
      graph: graph(""),
      task: task(1),
      outputs: {},
      workspace: "",
    }),
    undefined,
  );
});

Deno.test("gradeEpisode() records a grader that throws or is missing as ungraded, with fair metrics", async () => {
  const g = graph(
    "outcome: { grader: exact_match, params: { answer: judge.v }, fair: { correct: 0 } }",
  );
  const input = {
    graph: g,
    task: task("4"),
    outputs: { judge: { v: "4" } },
    workspace: "",
  };
  const real = GRADERS.exact_match!;
  try {
    GRADERS.exact_match = () => Promise.reject(new Error("disk on fire"));
    const failed = await gradeEpisode(input);
    assert.deepEqual(
      [failed?.valid, failed?.success, failed?.fair, failed?.metrics],
      [false, false, true, { correct: 0 }],
    );
    assert.equal(failed?.reason, "the grader failed: disk on fire");
    assert.equal(failed?.ungraded, "grader_error");
    assert.match(failed?.summary ?? "", /"exact_match" grader failed/);
    // A grader that throws before returning its promise is caught the same way.
    GRADERS.exact_match = () => {
      throw new RangeError("Maximum call stack size exceeded");
    };
    const threw = await gradeEpisode(input);
    assert.equal(threw?.ungraded, "grader_error");
    assert.equal(
      threw?.reason,
      "the grader failed: Maximum call stack size exceeded",
    );
    delete GRADERS.exact_match;
    const missing = await gradeEpisode(input);
    assert.deepEqual([missing?.valid, missing?.success, missing?.fair], [
      false,
      false,
      true,
    ]);
    assert.equal(missing?.ungraded, "grader_missing");
    assert.match(
      missing?.reason ?? "",
      /"exact_match" grader is not available/,
    );
    assert.match(missing?.summary ?? "", /Expected: 4\.$/);
  } finally {
    GRADERS.exact_match = real;
  }
});

Deno.test("gradeEpisode() marks a grader that hangs as ungraded (grader_timeout), an agent's missing answer as graded", async () => {
  const g = graph(
    "outcome: { grader: exact_match, params: { answer: judge.v }, fair: { correct: 0 } }",
  );
  const input = {
    graph: g,
    task: task("4"),
    outputs: { judge: { v: "4" } },
    workspace: "",
  };
  const real = GRADERS.exact_match!;
  let release = () => {};
  try {
    GRADERS.exact_match = () =>
      new Promise((resolve) => {
        release = () => resolve(real(input));
      });
    const hung = await gradeEpisode(input, { timeoutMs: 20 });
    assert.equal(hung?.ungraded, "grader_timeout");
    assert.equal(hung?.success, false);
    assert.match(hung?.reason ?? "", /^the grader timed out: .*20 ms/);
  } finally {
    release();
    GRADERS.exact_match = real;
  }
  const noAnswer = await gradeEpisode({
    ...input,
    outputs: { judge: { v: null } },
  });
  assert.equal(noAnswer?.valid, false);
  assert.equal(
    noAnswer?.ungraded,
    undefined,
    "the agents' own failure is graded",
  );
  const right = await gradeEpisode(input);
  assert.equal(right?.ungraded, undefined);
});

Deno.test("gradeEpisode() leaves a task whose row has no answer ungraded, naming the fix, never 'wrong'; regex needs none", async () => {
  const g = graph(
    "outcome: { grader: exact_match, params: { answer: judge.v } }",
  );
  for (const answer of [undefined, null, ""]) {
    const got = await gradeEpisode({
      graph: g,
      task: task(answer),
      outputs: { judge: { v: "anything" } },
      workspace: "",
    });
    assert.equal(got?.ungraded, "grader_error");
    assert.equal(got?.success, false);
    assert.match(
      got?.reason ?? "",
      /task "1" has no expected answer .*; add the answer to the row, or remove the row/,
    );
  }
  const regex = graph(
    'outcome: { grader: regex, params: { answer: judge.v, pattern: "^b" } }',
  );
  const matched = await gradeEpisode({
    graph: regex,
    task: task(undefined),
    outputs: { judge: { v: "bee" } },
    workspace: "",
  });
  assert.deepEqual([matched?.ungraded, matched?.correct], [undefined, true]);
});

Deno.test("the regex grader runs the spec's pattern in linear time on a hostile answer", async () => {
  const g = graph(
    'outcome: { grader: regex, params: { answer: judge.v, pattern: "^(a+)+$" } }',
  );
  const started = performance.now();
  const got = await gradeEpisode({
    graph: g,
    task: task(undefined),
    outputs: { judge: { v: "a".repeat(100_000) + "b" } },
    workspace: "",
  });
  assert.equal(got?.correct, false);
  // JS's backtracking RegExp takes seconds on 30 characters of this; RE2 is linear.
  assert.ok(performance.now() - started < 5_000);
});

Deno.test("gradeEpisode() does not count time spent waiting for a sandbox slot against the grader", async () => {
  const g = graph(
    "outcome: { grader: exact_match, params: { answer: judge.v } }",
  );
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const grade = {
    valid: true,
    correct: true,
    metrics: { correct: 1 },
    fair: false,
    answer: "a",
    expected: "a",
    summary: "ok",
  };
  // The caller's grader (it replaces the built-in of that name) runs its work in a slot.
  const run = (workMs: number) =>
    gradeEpisode({
      graph: g,
      task: task("a"),
      outputs: { judge: { v: "a" } },
      workspace: "",
    }, {
      timeoutMs: 300,
      withSlot: async (fn) => {
        await sleep(1000); // the pool is busy, far past the limit
        return fn(0);
      },
      graders: {
        exact_match: (input) =>
          input.withSlot!(async () => {
            await sleep(workMs);
            return grade;
          }),
      },
    });
  const waited = await run(0);
  assert.deepEqual([waited?.ungraded, waited?.success], [undefined, true]);
  const slow = await run(1000);
  assert.equal(slow?.ungraded, "grader_timeout");
});

Deno.test("gradeEpisode() waits for an LLM judge as long as its model's timeout per verdict attempt, not the default limit", async () => {
  const g = compiledGraph([
    ...oneRoleSpec("judge", "v", {
      models: "j: { model: y, timeout_s: 1 }",
      dataset: "{ inputs: {}, answer: a }",
    }),
    "outcome: { grader: llm_judge, params: { model: j, answer: judge.v, rubric: 'Is {{ answer }} right?' } }",
  ]);
  const graded = await gradeEpisode({
    graph: g,
    task: task("a"),
    outputs: { judge: { v: "a" } },
    workspace: "",
  }, {
    timeoutMs: 20, // the default limit, far below the judge's
    graders: {
      llm_judge: async () => {
        // Past the default limit and past the slack alone, within 3 attempts x 1 s.
        await new Promise((r) => setTimeout(r, 1500));
        return {
          valid: true,
          correct: null,
          metrics: { score: 8, normalized_score: 0.8 },
          fair: false,
          answer: "a",
          expected: "a",
          summary: "judged",
        };
      },
    },
  });
  assert.equal(graded?.ungraded, undefined);
  assert.equal(graded?.metrics.score, 8);
});
