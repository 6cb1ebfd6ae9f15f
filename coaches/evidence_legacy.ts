import type { GraphRole } from "../dsl/mod.ts";
import type { ActionEvent, Execution, Task } from "../runtime/mod.ts";
import { extractOutputs } from "../runtime/mod.ts";
import { splitReasoning } from "../runtime/mod.ts";
import { promptVariables } from "../runtime/mod.ts";
import {
  type ActionView,
  formatObservation,
  type RoleResult,
} from "../runtime/mod.ts";
import type { ActionKey, RunLog } from "../runtime/mod.ts";

// The legacy path: runs recorded before action events carried `answer`, `prompt_variables` and `outputs`
// are scored by running today's runtime code over their events, as the coach always did. Only this file
// replays runtime code; evidence_recorded.ts reads the recorded values and falls back to it.

/**
 * The answer of an action's reply, split again with today's runtime/parse_reply.ts (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legacyAnswer } from "./evidence_legacy.ts";
 * assert.equal(legacyAnswer({ reply: { role: "assistant", content: "<think>hm</think> Yes." } }), "Yes.");
 * ```
 */
export function legacyAnswer(action: Pick<ActionEvent, "reply">): string {
  return splitReasoning(action.reply.content).answer;
}

/**
 * A role's declared outputs extracted again from one reply with today's runtime/extract_output.ts (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legacyOutputs } from "./evidence_legacy.ts";
 * const role = { outputs: { answer: { extract: "last_boxed" } } } as const;
 * assert.deepEqual(legacyOutputs(role, "So \\boxed{4}."), { answer: "4" });
 * ```
 */
export function legacyOutputs(
  role: Pick<GraphRole, "outputs">,
  answer: string,
): Record<string, string | null> {
  return extractOutputs(role.outputs, answer);
}

/**
 * What one role produced in the round that ended with its latest `role_finished` before `beforeStep`,
 * rebuilt from the log as runtime/run_role.ts built it for the roles after it (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roleResultFromLog } from "./evidence_legacy.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * run.action("data_engineer", { reply: "<think>hm</think>Saved." });
 * run.finished("data_engineer", { files_saved: ["X_train.pkl"] });
 * const result = roleResultFromLog(run.log, "eval:t1", "data_engineer", Infinity);
 * assert.equal(result?.final_text, "Saved.");
 * ```
 */
export function roleResultFromLog(
  log: RunLog,
  episodeId: string,
  roleId: string,
  beforeStep: number,
): RoleResult | undefined {
  const finished = log.roleFinished(episodeId, roleId, beforeStep);
  if (finished === undefined) return undefined;
  const actions = log.roundActions(episodeId, roleId, finished.round).filter((
    a,
  ) => a.step < finished.step);
  const views: ActionView[] = [];
  const toolOutputs: string[] = [];
  const executions: Execution[] = [];
  let finalText = "";
  let finalRaw = "";
  for (const a of actions) {
    // A failed model call leaves the previous reply as the role's last answer, as in run_role.ts.
    if (a.model_call.ok) {
      finalRaw = a.reply.content;
      finalText = legacyAnswer(a);
    }
    const observations = a.executions.map((e, i) =>
      formatObservation(e, executions.length + i)
    );
    executions.push(...a.executions);
    toolOutputs.push(...observations);
    views.push({
      turn: a.turn,
      round: a.round,
      output: finalText,
      reasoning: a.reasoning ?? "",
      observations,
    });
  }
  return {
    role: roleId,
    round: finished.round,
    actions: views,
    final_text: finalText,
    final_raw: finalRaw,
    tool_outputs: toolOutputs,
    last_tool_output: toolOutputs.at(-1) ?? null,
    files: finished.files_saved,
    outputs: finished.outputs,
    executions,
  };
}

/**
 * The task of an episode as prompts saw it: from the run's tasks when the log was given them, else from
 * `episode_started` (its recorded `task.inputs`; older runs recorded only the id and category).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taskOf } from "./evidence_legacy.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * assert.equal(taskOf(run.log, "eval:t1").id, "t1");
 * ```
 */
export function taskOf(log: RunLog, episodeId: string): Task {
  const known = log.task(episodeId);
  if (known) return known;
  const started = log.episodeStarted(episodeId);
  return {
    id: started?.task_id ?? episodeId,
    index: started?.index ?? 0,
    split: started?.split ?? "",
    category: started?.category ?? null,
    inputs: started?.task?.inputs ?? {},
    answer: started?.task?.answer,
    files: [],
    row: null,
  };
}

/**
 * The shared template variables of an action (pipeline, task, role, upstream, handoffs, round), rebuilt by
 * replaying today's runtime/render_prompt.ts over the log as of the first turn of its round (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legacySharedVariables } from "./evidence_legacy.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * run.action("data_engineer", { reply: "Saved." });
 * run.finished("data_engineer");
 * const vars = legacySharedVariables(run.log, run.action("modeler"));
 * assert.deepEqual(Object.keys(vars.upstream as object), ["data_engineer"]);
 * ```
 */
export function legacySharedVariables(
  log: RunLog,
  key: ActionKey,
): Record<string, unknown> {
  const action = log.action(key);
  const role = log.role(key.role);
  const first = log.roundActions(key.episode_id, key.role, action.round)[0] ??
    action;
  const results = new Map<string, RoleResult>();
  for (const id of Object.keys(role.sees)) {
    const r = roleResultFromLog(log, key.episode_id, id, first.step);
    if (r) results.set(id, r);
  }
  return promptVariables(
    log.graph,
    role,
    taskOf(log, key.episode_id),
    results,
    {
      files: [],
      missing_inputs: [],
      turn: action.turn,
      round: action.round,
    },
  );
}
