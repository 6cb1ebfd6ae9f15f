import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  type RunEvent,
  RunEventSchema,
  runPipeline,
  ScriptedModelClient,
} from "../runtime/mod.ts";
import { buildEvidence } from "./evidence.ts";
import { actionFacts } from "./facts.ts";
import { RunLog } from "../runtime/mod.ts";
import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";

const SPEC = `version: 1
name: recorded
models: { m: { provider: scripted, model: demo } }
tools: { python: { language: python } }
roles:
  - { id: drafter, description: Drafts, model: m, tools: [python], max_turns: 2, prompts: { user: "{{ task.q }}" } }
  - id: finisher
    description: Answers
    model: m
    after: [drafter]
    sees: { drafter: [final_text, all_actions] }
    outputs: { answer: { extract: last_boxed } }
    prompts: { user: "{{ task.q }} {{ upstream.drafter.final_text }}" }
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: { q: q } } }
`;

async function readEvents(dir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(dir, "events.jsonl"));
  return text.trimEnd().split("\n").map((l) =>
    RunEventSchema.parse(JSON.parse(l))
  );
}

/** A copy of a run directory whose events are `events`, loaded as a RunLog. */
async function withEvents(runDir: string, events: readonly RunEvent[]) {
  const dir = await Deno.makeTempDir({ prefix: "mappa_recorded_copy_" });
  await Deno.copyFile(
    join(runDir, "manifest.json"),
    join(dir, "manifest.json"),
  );
  await Deno.writeTextFile(
    join(dir, "events.jsonl"),
    events.map((e) => JSON.stringify(e) + "\n").join(""),
  );
  return await RunLog.load(dir);
}

function finalText(handoff: unknown): unknown {
  return (handoff as { final_text?: unknown } | undefined)?.final_text;
}

/** The events as a run recorded before actions carried `answer`, `prompt_variables` and `outputs`. */
function oldFormat(events: readonly RunEvent[]): RunEvent[] {
  return events.map((e) => {
    if (e.kind !== "action") return e;
    const { answer: _a, prompt_variables: _p, outputs: _o, ...rest } = e;
    return rest;
  });
}

Deno.test("a run records what the coach needs, and the coach reads it rather than replaying the runtime", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_recorded_" });
  await Deno.writeTextFile(join(dir, "tasks.jsonl"), '{"q": "2+2?"}\n');
  await Deno.writeTextFile(join(dir, "spec.yaml"), SPEC);
  const compiled = compileFile(join(dir, "spec.yaml"));
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const summary = await runPipeline(compiled.graph, {
    model: new ScriptedModelClient({
      after_last: "repeat_last",
      roles: {
        drafter: [
          "<think>Add them.</think>Checking.\n```python\nprint(2 + 2)\n```",
          "<think>Add them.</think>It is 4.",
        ],
        finisher: ["\\boxed{4}"],
      },
      tasks: {},
    }),
    sandbox: await BwrapSandbox.create(),
  }, { policy: "demo", outDir: join(dir, "runs") });
  const events = await readEvents(summary.run_dir);
  const actions = events.filter((e) => e.kind === "action");
  const [drafting, drafter, finisher] = actions;
  assert.ok(drafting && drafter && finisher);

  await t.step(
    "each action records its answer, its round's prompt variables and its outputs",
    () => {
      assert.equal(drafting.answer, "Checking.\n```python\nprint(2 + 2)\n```");
      assert.equal(drafter.answer, "It is 4.");
      // A reply that is its own answer is not written twice.
      assert.equal(finisher.answer, undefined);
      assert.deepEqual(drafting.prompt_variables?.task, {
        id: "0",
        category: null,
        q: "2+2?",
      });
      assert.equal(drafting.prompt_variables?.upstream, undefined);
      // Later turns of a round saw the same variables: recorded once, on the turn that rendered them.
      assert.equal(drafter.prompt_variables, undefined);
      assert.deepEqual(
        finisher.prompt_variables?.handoffs.map((
          h,
        ) => [h.role.id, h.final_text]),
        [["drafter", "It is 4."]],
      );
      assert.deepEqual(finisher.outputs, { answer: "4" });
      assert.equal(drafter.outputs, undefined);
    },
  );

  await t.step(
    "the same run in the old format scores exactly as before (legacy path)",
    async () => {
      const log = await RunLog.load(summary.run_dir);
      const old = await withEvents(summary.run_dir, oldFormat(events));
      for (const key of log.actions()) {
        assert.deepEqual(buildEvidence(old, key), buildEvidence(log, key));
        assert.deepEqual(actionFacts(old, key), actionFacts(log, key));
      }
    },
  );

  await t.step(
    "recorded values win over what today's runtime code would compute",
    async () => {
      const edited = events.map((e) => {
        if (e.kind !== "action") return e;
        if (e.role === "drafter") {
          return e.turn === 2 ? { ...e, answer: "Recorded answer." } : e;
        }
        const vars = e.prompt_variables!;
        return {
          ...e,
          // As a runtime that did not know <think> recorded it: the reply was its own answer.
          reply: { ...e.reply, content: "<think>Sure.</think>\\boxed{4}" },
          prompt_variables: {
            ...vars,
            task: { ...vars.task, q: "Recorded question" },
            handoffs: vars.handoffs.map((h) => ({
              ...h,
              final_text: "Recorded handoff.",
            })),
          },
        };
      });
      const log = await withEvents(summary.run_dir, edited);
      const [, draftKey, finishKey] = log.actions();
      assert.equal(
        buildEvidence(log, draftKey!).action.output,
        "Recorded answer.",
      );
      const evidence = buildEvidence(log, finishKey!);
      assert.equal(finalText(evidence.upstream.drafter), "Recorded handoff.");
      assert.equal(finalText(evidence.handoffs[0]), "Recorded handoff.");
      assert.equal(
        (evidence.task as Record<string, unknown>).q,
        "Recorded question",
      );
      assert.equal(evidence.action.output, "<think>Sure.</think>\\boxed{4}");
      // Replayed, the same log would show the reply's own split.
      const replayed = await withEvents(summary.run_dir, oldFormat(edited));
      assert.equal(
        finalText(buildEvidence(replayed, finishKey!).handoffs[0]),
        "It is 4.",
      );
    },
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a debate loop's recorded evidence is what the legacy replay of its peers' rounds gives", async () => {
  const compiled = compileFile(
    new URL("../pipelines/debate.yaml", import.meta.url).pathname,
  );
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const out = await Deno.makeTempDir({ prefix: "mappa_recorded_loop_" });
  const summary = await runPipeline(compiled.graph, {
    model: new ScriptedModelClient({
      after_last: "cycle",
      roles: {
        proponent: [
          "<think>a</think>Pro 1.",
          "Pro 2.",
          "<think>b</think>Pro 3.",
        ],
        opponent: ["Con 1.", "<think>c</think>Con 2."],
        judge: ["<think>d</think>VERDICT: TRUE"],
      },
      tasks: {},
    }),
    sandbox: await BwrapSandbox.create(),
  }, { policy: "demo", outDir: out, limit: 1 });
  const events = await readEvents(summary.run_dir);
  const log = await RunLog.load(summary.run_dir);
  const old = await withEvents(summary.run_dir, oldFormat(events));
  const keys = log.actions();
  // Three rounds of two debaters, then the judge.
  assert.equal(keys.length, 7);
  for (const key of keys) {
    assert.deepEqual(buildEvidence(old, key), buildEvidence(log, key));
    assert.deepEqual(actionFacts(old, key), actionFacts(log, key));
  }
  const judge = buildEvidence(log, keys[6]!);
  assert.match(JSON.stringify(judge.upstream), /Pro 3\.[\s\S]*Con 1\./);
  await Deno.remove(out, { recursive: true });
});

Deno.test("actionFacts() takes a round's outputs from its last action as recorded, else extracts them again", () => {
  const run = new FixtureRun();
  run.started();
  const recorded = run.action("analyst", {
    reply: "\\boxed{4}",
    answer: "\\boxed{4}",
    outputs: { answer: null },
  });
  assert.deepEqual(
    actionFacts(run.log, recorded).filter((f) => f.kind === "output_missing")
      .map((f) => f.text),
    ['analyst gave no "answer" output (expected by last_boxed)'],
  );
  const legacy = new FixtureRun();
  legacy.started();
  const key = legacy.action("analyst", { reply: "\\boxed{4}" });
  assert.deepEqual(
    actionFacts(legacy.log, key).filter((f) => f.kind === "output_missing"),
    [],
  );
});

Deno.test("buildEvidence() shows an action's recorded answer, not the reply split again", () => {
  const run = new FixtureRun();
  run.started();
  const first = run.action("modeler", {
    reply: "<think>x</think>Split today.",
    answer: "Split at run time.",
    stop_reason: "continue",
  });
  const second = run.action("modeler", { reply: "Done.", answer: "Done." });
  assert.equal(
    buildEvidence(run.log, first).action.output,
    "Split at run time.",
  );
  assert.deepEqual(buildEvidence(run.log, second).previous_actions, [
    { turn: 1, output: "Split at run time." },
  ]);
});
