import {
  type ExecutionGraph,
  globsOverlap,
  type GraphRole,
} from "../dsl/mod.ts";
import type { ActionEvent, Execution } from "../runtime/mod.ts";
import { actionOutputs } from "./evidence_recorded.ts";
import type { Fact } from "./types.ts";
import { filesNotFound } from "./facts_not_found.ts";
import type { ActionKey, RunLog } from "../runtime/mod.ts";

/** Sandbox statuses that mean the code ran out of time rather than failed. */
const TIMEOUTS = new Set(["wall_timeout", "cpu_time_limit"]);
/** Statuses that are no fault of the agent: the jail itself could not run the code. */
const NOT_THE_AGENTS = new Set(["ok", "sandbox_error"]);

/** Roles that should have produced a file the acting role reads: its flows first, then its ancestors and loop peers. */
function producersOf(
  graph: ExecutionGraph,
  role: GraphRole,
  file: string,
): string[] {
  const viaFlows = graph.flows.filter((f) =>
    f.to === role.id && !f.from_task &&
    f.files.some((p) => globsOverlap(p, file))
  ).map((f) => f.from);
  if (viaFlows.length > 0) return [...new Set(viaFlows)];
  const peers = graph.loops.filter((l) => l.roles.includes(role.id))
    .flatMap((l) => l.roles);
  const candidates = new Set([...role.upstream, ...peers]);
  candidates.delete(role.id);
  return graph.roles.filter((r) =>
    candidates.has(r.id) && r.produces.some((p) => globsOverlap(p.path, file))
  ).map((r) => r.id);
}

/** The action whose facts are established, with its log, key and role. */
interface At {
  readonly log: RunLog;
  readonly key: ActionKey;
  readonly role: GraphRole;
  readonly action: ActionEvent;
}

function errorLine(e: Execution): string {
  if (e.error) return `${e.error.type}: ${e.error.message}`;
  const last = e.stderr.text.trimEnd().split("\n").at(-1) ?? "";
  return last.length > 300 ? `${last.slice(0, 300)}…` : last;
}

function executionFacts({ role, action }: At): Fact[] {
  return action.executions.filter((e) => !NOT_THE_AGENTS.has(e.status)).map((
    e,
  ) => {
    const timeout = TIMEOUTS.has(e.status);
    const detail = errorLine(e);
    return {
      kind: timeout ? "tool_timeout" : "tool_error",
      role: role.id,
      text: `${role.id}'s ${e.tool} code ended with status "${e.status}"${
        e.exit_code !== null ? ` (exit ${e.exit_code})` : ""
      }${detail !== "" ? `: ${JSON.stringify(detail)}` : ""}`,
    };
  });
}

/** Missing inputs at the start of the action and files its code failed to find, blamed on their producers. */
function inputFacts({ log, key, role, action }: At): Fact[] {
  const facts: Fact[] = [];
  const blamed = new Map<string, { role: string; file: string }>();
  const failedOn = new Map<string, string>();
  for (const pattern of action.contract.missing_inputs) {
    const producers = producersOf(log.graph, role, pattern);
    if (producers.length === 0) {
      facts.push({
        kind: "consumed_file_missing",
        role: role.id,
        file: pattern,
        text:
          `input file "${pattern}" was missing when ${role.id} started (no upstream role produces it)`,
      });
    }
    for (const p of producers) {
      blamed.set(`${p}\u0000${pattern}`, { role: p, file: pattern });
    }
  }
  const available = new Set(log.filesBefore(key));
  for (const e of action.executions) {
    if (e.status === "ok") continue;
    const text = [e.stderr.text, e.error?.message ?? ""].join("\n");
    for (const file of filesNotFound(text)) {
      if (available.has(file)) continue; // it was there: the code looked in the wrong place
      for (const p of producersOf(log.graph, role, file)) {
        const id = `${p}\u0000${file}`;
        blamed.set(id, { role: p, file });
        failedOn.set(id, e.error?.type ?? "a missing-file error");
      }
    }
  }
  for (const [id, { role: producer, file }] of blamed) {
    const error = failedOn.get(id);
    facts.push({
      kind: "upstream_file_missing",
      role: producer,
      file,
      text: error !== undefined
        ? `${role.id}'s code failed with ${error} on ${
          JSON.stringify(file)
        }, which ${producer} should have produced: the failure is caused upstream, not by ${role.id}`
        : `${
          JSON.stringify(file)
        } was missing when ${role.id} started: ${producer} should have produced it`,
    });
  }
  return facts;
}

/** Facts about the role's contract and outputs that hold after this action and after the role's last action. */
function contractFacts({ log, key, role, action }: At): Fact[] {
  const facts: Fact[] = [];
  // Before the round ends, this action stands in for the last one (inline coaches wait for isComplete).
  const last = log.lastActionOfRound(key) ?? action;
  const stillMissing = new Set(last.contract.missing_required);
  for (const file of action.contract.missing_required) {
    if (!stillMissing.has(file)) continue; // saved by a later action of the role: not this action's failure
    facts.push({
      kind: "required_file_missing",
      role: role.id,
      file,
      text: `${role.id} did not save required file "${file}"`,
    });
  }
  const touched = new Set(
    action.executions.flatMap((e) => e.files.map((f) => f.path)),
  );
  const stillInvalid = new Set(last.contract.invalid.map((i) => i.path));
  for (const bad of action.contract.invalid) {
    if (!touched.has(bad.path) && !stillInvalid.has(bad.path)) continue;
    facts.push({
      kind: "invalid_artifact",
      role: role.id,
      file: bad.path,
      text: `${role.id} saved ${
        JSON.stringify(bad.path)
      }, which fails its schema: ${bad.problems.join("; ")}`,
    });
  }
  if (
    action.stop_reason !== "continue" && Object.keys(role.outputs).length > 0
  ) {
    const finished = log.roleFinished(key.episode_id, role.id);
    const given = finished?.round === action.round
      ? finished.outputs
      : actionOutputs(log, key);
    for (const [name, rule] of Object.entries(role.outputs)) {
      const value = given[name];
      if (value !== null && value !== undefined) continue;
      facts.push({
        kind: "output_missing",
        role: role.id,
        text:
          `${role.id} gave no "${name}" output (expected by ${rule.extract})`,
      });
    }
  }
  return facts;
}

/** Whether the role ran any code in this round before this action. */
function ranCodeEarlier(log: RunLog, key: ActionKey, action: ActionEvent) {
  return log.roundActions(key.episode_id, key.role, action.round).some((a) =>
    a.step < action.step && a.executions.length > 0
  );
}

function replyFacts({ log, key, role, action }: At): Fact[] {
  if (action.stop_reason === "model_error") {
    return [{
      kind: "model_error",
      role: role.id,
      text: `${role.id}'s model call failed: ${
        action.model_call.error?.message ?? "no reply"
      }`,
    }];
  }
  if (action.stop_reason === "empty_reply") {
    return [{
      kind: "empty_reply",
      role: role.id,
      text: `${role.id} replied with nothing`,
    }];
  }
  if (
    role.tools.length > 0 && action.executions.length === 0 &&
    !ranCodeEarlier(log, key, action)
  ) {
    const ignored = action.ignored_code_blocks > 0
      ? ` (${action.ignored_code_blocks} code block(s) in languages it has no tool for were ignored)`
      : "";
    return [{
      kind: "no_tool_call",
      role: role.id,
      text: `${role.id} has tools (${
        role.tools.join(", ")
      }) but ran no code${ignored}`,
    }];
  }
  return [];
}

/**
 * The facts the runtime established about one action, for the judge (as sentences) and for rubric checks
 * (as data), one `Fact` per rule that holds; docs/checks.md#facts says when each kind holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionFacts } from "./facts.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts"; // or: await RunLog.load("runs/<id>")
 * const run = new FixtureRun();
 * run.started();
 * const key = run.action("data_engineer", { contract: { missing_required: ["X_test.pkl"] } });
 * assert.deepEqual(actionFacts(run.log, key).map((f) => f.text), [
 *   "data_engineer has tools (python) but ran no code",
 *   'data_engineer did not save required file "X_test.pkl"',
 * ]);
 * ```
 */
export function actionFacts(log: RunLog, key: ActionKey): Fact[] {
  const at = { log, key, role: log.role(key.role), action: log.action(key) };
  return [
    ...replyFacts(at),
    ...executionFacts(at),
    ...inputFacts(at),
    ...contractFacts(at),
  ];
}
