import assert from "node:assert/strict";
import {
  legacySharedVariables,
  roleResultFromLog,
  taskOf,
} from "./evidence_legacy.ts";
import { buildEvidence } from "./evidence.ts";
import { actionFacts } from "./facts.ts";
import { RunLog } from "../runtime/mod.ts";
import {
  fixtureExecution,
  fixtureGraph,
  FixtureRun,
} from "../tests/fixtures/run_log_fixture.ts";
import { failedModelCall } from "../tests/fixtures/model_call_fixture.ts";

const LOOP_SPEC = `version: 1
name: loop
models: { m: { provider: scripted, model: demo } }
roles:
  - { id: pro, description: Argues., model: m, prompts: { user: p }, sees: { con: [final_text] } }
  - { id: con, description: Rebuts., model: m, after: [pro], prompts: { user: c } }
flow:
  loops: [{ id: rounds, roles: [pro, con], max_rounds: 3 }]
dataset: { splits: { eval: tasks.json }, fields: { inputs: {} } }
`;

Deno.test("legacySharedVariables() shows a loop peer's latest finished round, as the runtime did", () => {
  const run = new FixtureRun(fixtureGraph(LOOP_SPEC));
  run.started();
  const pro1 = run.action("pro", { reply: "pro says 1" });
  run.finished("pro");
  const con1 = run.action("con", { reply: "con says 1" });
  run.finished("con");
  const pro2 = run.action("pro", { reply: "pro says 2", round: 2 });
  run.finished("pro", { round: 2 });
  const con2 = run.action("con", { reply: "con says 2", round: 2 });
  const finalText = (key: typeof pro1, peer: string) =>
    (legacySharedVariables(run.log, key).upstream as Record<
      string,
      { final_text: string }
    >)[peer]?.final_text;
  assert.equal(finalText(pro1, "con"), undefined);
  assert.equal(finalText(con1, "pro"), "pro says 1");
  assert.equal(finalText(pro2, "con"), "con says 1");
  assert.equal(finalText(con2, "pro"), "pro says 2");
  const e = buildEvidence(run.log, con2);
  assert.deepEqual([e.round, e.max_rounds], [2, 3]);
});

Deno.test("roleResultFromLog() keeps the last good reply when a later model call failed", () => {
  const run = new FixtureRun();
  run.started();
  run.action("data_engineer", {
    reply: "<think>plan</think>First.",
    stop_reason: "continue",
    executions: [
      fixtureExecution({ stdout: "a" }),
      fixtureExecution({ stdout: "b" }),
    ],
  });
  run.action("data_engineer", {
    reply: "",
    stop_reason: "model_error",
    model_call: failedModelCall({ kind: "timeout", message: "timed out" }),
  });
  run.finished("data_engineer", { files_saved: ["X_train.pkl"] });
  const result = roleResultFromLog(
    run.log,
    "eval:t1",
    "data_engineer",
    Infinity,
  );
  assert.ok(result);
  assert.equal(result.final_text, "First.");
  assert.equal(result.final_raw, "<think>plan</think>First.");
  assert.deepEqual(result.actions.map((a) => a.output), ["First.", "First."]);
  assert.equal(result.tool_outputs.length, 2);
  assert.match(result.tool_outputs[1]!, /^\[execution 2 \(python\)/);
  assert.equal(result.last_tool_output, result.tool_outputs[1]);
  assert.deepEqual(result.files, ["X_train.pkl"]);
  assert.equal(
    roleResultFromLog(run.log, "eval:t1", "modeler", Infinity),
    undefined,
  );
});

Deno.test("taskOf() reads the task recorded in episode_started", () => {
  const run = new FixtureRun();
  run.started(1, "eval:t1", {
    task: { inputs: { description: "Predict y." }, answer: 3 },
  });
  run.started(1, "eval:t2"); // a run from before inputs were recorded
  const task = taskOf(run.log, "eval:t1");
  assert.deepEqual([task.id, task.category, task.inputs], [
    "t1",
    "binary",
    { description: "Predict y." },
  ]);
  assert.deepEqual(taskOf(run.log, "eval:t2").inputs, {});
});

// A run recorded before action events carried answer, prompt_variables and outputs, with the evidence and
// facts the coach built from it then (commit f94d23f): the legacy path must keep building exactly these.
const LEGACY_RUN =
  new URL("../tests/fixtures/legacy_evidence_run", import.meta.url)
    .pathname;

Deno.test("buildEvidence() and actionFacts() of a run recorded before evidence was recorded are what they were", async () => {
  const text = await Deno.readTextFile(`${LEGACY_RUN}/events.jsonl`);
  assert.doesNotMatch(
    text,
    /"prompt_variables"|"outputs":\{[^}]*\},"model_call"/,
  );
  const golden = JSON.parse(
    await Deno.readTextFile(`${LEGACY_RUN}/evidence.json`),
  );
  const log = await RunLog.load(LEGACY_RUN);
  assert.equal(log.actions().length, 3);
  const now = log.actions().map((key) => ({
    key,
    evidence: buildEvidence(log, key),
    facts: actionFacts(log, key),
  }));
  assert.deepEqual(JSON.parse(JSON.stringify(now)), golden);
  const finisher = now[2]!.evidence;
  assert.equal(finisher.action.output, "\\boxed{4}");
  assert.match(JSON.stringify(finisher.upstream), /It is 4\./);
});
