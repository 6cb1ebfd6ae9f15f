import type { ActionEvent, PromptVariables } from "../runtime/mod.ts";
import {
  legacyAnswer,
  legacyOutputs,
  legacySharedVariables,
} from "./evidence_legacy.ts";
import type { ActionKey, RunLog } from "../runtime/mod.ts";

// The coach reads what the runtime recorded in the action event, so a run scores the same whatever the
// runtime later becomes; runs recorded before these fields take the legacy path (evidence_legacy.ts).

// A round's first action never changes once recorded: looked up once, not once per earlier action.
const FIRST_OF_ROUND = new WeakMap<RunLog, Map<string, ActionEvent>>();

/** The first action of the action's round: the one that rendered the role's prompts. */
function firstOfRound(log: RunLog, action: ActionEvent): ActionEvent {
  let known = FIRST_OF_ROUND.get(log);
  if (known === undefined) FIRST_OF_ROUND.set(log, known = new Map());
  const id = [action.episode_id, action.attempt, action.role, action.round]
    .join("\u0000");
  let first = known.get(id);
  if (first === undefined) {
    first = log.roundActions(action.episode_id, action.role ?? "", action.round)
      .find((a) => a.attempt === action.attempt) ?? action;
    known.set(id, first);
  }
  return first;
}

/**
 * The answer of an action's reply (its reasoning removed), as the runtime split it when it ran: the
 * recorded `answer`, else the reply itself in a recorded round, else the reply split again (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionAnswer } from "./evidence_recorded.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * const key = run.action("modeler", { reply: "<think>hm</think>Yes.", answer: "As recorded." });
 * assert.equal(actionAnswer(run.log, run.log.action(key)), "As recorded.");
 * ```
 */
export function actionAnswer(log: RunLog, action: ActionEvent): string {
  if (action.answer !== undefined) return action.answer;
  return firstOfRound(log, action).prompt_variables
    ? action.reply.content
    : legacyAnswer(action);
}

/**
 * The declared outputs a role's round ended with, as of its last action: those recorded on that action,
 * else extracted again from its answer (legacy runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionOutputs } from "./evidence_recorded.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * const key = run.action("analyst", { reply: "\\boxed{4}", outputs: { answer: "7" } });
 * assert.deepEqual(actionOutputs(run.log, key), { answer: "7" });
 * ```
 */
export function actionOutputs(
  log: RunLog,
  key: ActionKey,
): Readonly<Record<string, string | null>> {
  const action = log.action(key);
  return action.outputs ??
    legacyOutputs(log.role(key.role), actionAnswer(log, action));
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
  const first = firstOfRound(log, log.action(key));
  return first.prompt_variables
    ? withUpstream(first.prompt_variables)
    : legacySharedVariables(log, key);
}
