// Issue 15, item 1: an outcome that reads several roles' outputs, with success combining conditions.
import assert from "node:assert/strict";
import { compile } from "../../dsl/mod.ts";
import type { Task } from "../load_tasks.ts";
import { gradeEpisode } from "./grade_episode.ts";

function spec(outcome: string): string {
  return [
    "version: 1",
    "name: relay3",
    "models: { m: { model: x } }",
    "roles:",
    "  - { id: drafter, description: d, model: m, prompts: { user: hi }, outputs: { word: { extract: final_text } } }",
    "  - { id: finisher, description: f, model: m, after: [drafter], prompts: { user: hi }, outputs: { word: { extract: final_text } } }",
    'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }',
    outcome,
  ].join("\n");
}

function graph(outcome: string) {
  const result = compile(spec(outcome), { file: "relay3.yaml" });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  return result.graph;
}

function errors(outcome: string) {
  const result = compile(spec(outcome), { file: "relay3.yaml" });
  assert.equal(result.ok, false);
  return result.ok ? [] : result.diagnostics.map((d) => ({
    code: d.code,
    path: d.path.join("."),
    message: d.message,
  }));
}

const task = (answer: unknown): Task => ({
  id: "t1",
  index: 0,
  split: "eval",
  category: null,
  inputs: {},
  answer,
  files: [],
  row: {},
});

const REGEX = `outcome:
  grader: regex
  params:
    answer: { opens: drafter.word, closes: finisher.word }
    pattern: { opens: "^a", closes: "^b" }`;

Deno.test("an outcome grades several roles' answers, each a metric of its name, and success combines conditions", async (t) => {
  const grade = (
    g: ReturnType<typeof graph>,
    d: string | null,
    f: string | null,
  ) =>
    gradeEpisode({
      graph: g,
      task: task(undefined),
      outputs: { drafter: { word: d }, finisher: { word: f } },
      workspace: "",
    });

  await t.step("the named answers compile to answer_refs", () => {
    const g = graph(REGEX);
    assert.deepEqual(g.outcome?.answer_refs, {
      opens: { role: "drafter", output: "word" },
      closes: { role: "finisher", output: "word" },
    });
    assert.equal(g.outcome?.answer_ref, undefined);
  });

  await t.step(
    "success: all — the episode succeeds only when every agent did its part",
    async () => {
      const g = graph(
        `${REGEX}\n  success: { all: [{ metric: opens, at_least: 1 }, { metric: closes, at_least: 1 }] }`,
      );
      const both = await grade(g, "apple", "bee");
      assert.deepEqual(both?.metrics, { correct: 1, opens: 1, closes: 1 });
      assert.equal(both?.success, true);
      const one = await grade(g, "apple", "cat");
      assert.deepEqual(one?.metrics, { correct: 0, opens: 1, closes: 0 });
      assert.equal(one?.success, false);
      assert.match(
        one?.summary ?? "",
        /closes \(finisher\.word\): "cat" wrong/,
      );
      const none = await grade(g, null, "bee");
      assert.equal(
        none?.valid,
        false,
        "a missing answer makes the grade invalid",
      );
      assert.deepEqual(none?.metrics, { correct: 0, opens: 0, closes: 1 });
      assert.equal(none?.ungraded, undefined, "the agents' failure, graded");
    },
  );

  await t.step("success: any, and at least k of", async () => {
    const any = graph(
      `${REGEX}\n  success: { any: [{ metric: opens, at_least: 1 }, { metric: closes, at_least: 1 }] }`,
    );
    assert.equal((await grade(any, "apple", "cat"))?.success, true);
    assert.equal((await grade(any, "pear", "cat"))?.success, false);
    const k = graph(
      `${REGEX}\n  success: { at_least_k: 2, of: [{ metric: opens, at_least: 1 }, { metric: closes, at_least: 1 }, { metric: correct, at_least: 1 }] }`,
    );
    assert.equal((await grade(k, "apple", "cat"))?.success, false);
    assert.equal((await grade(k, "apple", "bee"))?.success, true);
  });

  await t.step(
    "exact_match reads each expected value from the row's answer object; a missing one is ungraded",
    async () => {
      const g = graph(`outcome:
  grader: exact_match
  params: { answer: { opens: drafter.word, closes: finisher.word } }`);
      const got = await gradeEpisode({
        graph: g,
        task: task({ opens: "Apple", closes: "bee" }),
        outputs: { drafter: { word: "apple" }, finisher: { word: "bee" } },
        workspace: "",
      });
      assert.deepEqual(got?.metrics, { correct: 1, opens: 1, closes: 1 });
      const partial = await gradeEpisode({
        graph: g,
        task: task({ opens: "apple" }),
        outputs: { drafter: { word: "apple" }, finisher: { word: "bee" } },
        workspace: "",
      });
      assert.equal(partial?.ungraded, "grader_error");
      assert.match(partial?.reason ?? "", /has no expected answer "closes"/);
    },
  );

  await t.step(
    "mistakes are located: unknown outputs, patterns without an answer, impossible k, unknown metrics",
    () => {
      const found = errors(`outcome:
  grader: regex
  params:
    answer: { opens: drafter.wrd, closes: finisher.word }
    pattern: { opens: "^a", other: "^b" }
  success: { at_least_k: 3, of: [{ metric: opens, at_least: 1 }, { metric: shuts, at_least: 1 }] }`);
      const at = (path: string) => found.filter((d) => d.path === path);
      assert.match(
        at("outcome.params.answer.opens")[0]?.message ?? "",
        /role "drafter" declares no output "wrd"/,
      );
      assert.match(
        at("outcome.params.pattern")[0]?.message ?? "",
        /no pattern for it/,
      );
      assert.match(
        at("outcome.params.pattern.other")[0]?.message ?? "",
        /names no answer "other"/,
      );
      assert.match(
        at("outcome.success.of.1.metric")[0]?.message ?? "",
        /metric "shuts"/,
      );
      const k = errors(`${REGEX}
  success: { at_least_k: 3, of: [{ metric: opens, at_least: 1 }, { metric: closes, at_least: 2, at_most: 1 }] }`);
      assert.deepEqual(k.map((d) => [d.code, d.path]).sort(), [
        ["conflicting_values", "outcome.success.at_least_k"],
        ["conflicting_values", "outcome.success.of.1.at_least"],
      ]);
      assert.match(
        k.find((d) => d.path.endsWith("at_least_k"))!.message,
        /only 2 are listed under of/,
      );
    },
  );
});
