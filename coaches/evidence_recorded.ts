import type { GraphRole } from "../dsl/mod.ts";
import type { ActionEvent, PromptVariables } from "../runtime/mod.ts";
import {
  legacyAnswer,
  legacyOutputs,
  legacySharedVariables,
} from "./evidence_legacy.ts";
import type { ActionKey, RunLog } from "./run_log.ts";

// The coach reads what the runtime recorded in the action event, so a run scores the same whatever the
// runtime later becomes; runs recorded before these fields take the legacy path (evidence_legacy.ts).

/**
 * The answer of an action's reply (its reasoning removed), as the runtime split it when it ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionAnswer } from "./evidence_recorded.ts";
 * const reply = { role: "assistant" as const, content: "<think>hm</think>Yes." };
 * assert.equal(actionAnswer({ reply, answer: "As recorded." }), "As recorded.");
 * assert.equal(actionAnswer({ reply }), "Yes.");
 * ```
 */
export function actionAnswer(
  action: Pick<ActionEvent, "reply" | "answer">,
): string {
  return action.answer ?? legacyAnswer(action);
}

/**
 * The declared outputs a role's round ended with, as of its last action: those recorded on that action,
 * else extracted again from its answer (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionOutputs } from "./evidence_recorded.ts";
 * const role = { outputs: { answer: { extract: "final_text" } } } as const;
 * const reply = { role: "assistant" as const, content: "42" };
 * assert.deepEqual(actionOutputs(role, { reply, outputs: { answer: "7" } }), { answer: "7" });
 * assert.deepEqual(actionOutputs(role, { reply }), { answer: "42" });
 * ```
 */
export function actionOutputs(
  role: Pick<GraphRole, "outputs">,
  action: Pick<ActionEvent, "reply" | "answer" | "outputs">,
): Readonly<Record<string, string | null>> {
  return action.outputs ?? legacyOutputs(role, actionAnswer(action));
}

/** The recorded variables with `upstream` rebuilt from the handoffs, each under its role id. */
function withUpstream(vars: PromptVariables): Record<string, unknown> {
  const upstream: Record<string, unknown> = {};
  for (const h of vars.handoffs) upstream[h.role.id] = h;
  return { ...vars, upstream };
}

/**
 * The shared template variables of an action (pipeline, task, role, upstream, handoffs, round): those the
 * first turn of its round recorded when it rendered the role's prompts, else rebuilt (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedVariables } from "./evidence_recorded.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * const handoff = { role: { id: "data_engineer" }, final_text: "As recorded." };
 * const key = run.action("modeler", {
 *   prompt_variables: { pipeline: {}, task: {}, role: {}, handoffs: [handoff] },
 * });
 * assert.deepEqual(sharedVariables(run.log, key).upstream, { data_engineer: handoff });
 * ```
 */
export function sharedVariables(
  log: RunLog,
  key: ActionKey,
): Record<string, unknown> {
  const action = log.action(key);
  const first = log.roundActions(key.episode_id, key.role, action.round)[0] ??
    action;
  return first.prompt_variables
    ? withUpstream(first.prompt_variables)
    : legacySharedVariables(log, key);
}
