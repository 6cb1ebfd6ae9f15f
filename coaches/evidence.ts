import type { GraphRubric } from "../dsl/mod.ts";
import type { ActionEvent, Message } from "../runtime/mod.ts";
import { actionFacts } from "./facts.ts";
import { actionAnswer, sharedVariables } from "./evidence_recorded.ts";
import {
  DEFAULT_STREAM_CAP,
  observationEvidence,
} from "./evidence_observation.ts";
import { sanitizeDeep } from "./evidence_sanitize.ts";
import type { ActionKey, RunLog } from "../runtime/mod.ts";
import type { Evidence, OutcomeEvidence } from "./types.ts";

/** Options of {@linkcode buildEvidence}. */
export interface BuildEvidenceOptions {
  /** The episode's graded outcome; shown only when the role has `coach_sees_outcome`, or with `revealOutcome`. */
  readonly outcome?: OutcomeEvidence;
  /** Show the outcome whatever the role declares: the second verdict of `coach.rejudge_with_outcome`. */
  readonly revealOutcome?: boolean;
  /**
   * The rubric the evidence is for (its scale), e.g. a new version being rescored.
   * @default the rubric the graph's coach assigns to the role
   */
  readonly rubric?: GraphRubric;
  /**
   * Characters of each tool output stream shown to the judge (head and tail).
   * @default 4000
   */
  readonly streamCap?: number;
}

function renderMessage(m: Message): string {
  const calls = (m.tool_calls ?? []).map((c) =>
    `[tool call ${c.name} ${c.id}]\n${c.arguments}`
  );
  const head = m.role === "tool"
    ? `[tool ${m.tool_call_id ?? ""}]`
    : `[${m.role}]`;
  return [`${head}\n${m.content}`, ...calls].join("\n");
}

/**
 * The messages an action was given, as one text: each under a `[role]` line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderInput } from "./evidence.ts";
 * assert.equal(renderInput([{ role: "user", content: "Go." }]), "[user]\nGo.");
 * ```
 */
export function renderInput(messages: readonly Message[]): string {
  return messages.map(renderMessage).join("\n\n");
}

/** Files this action left in the workspace (created or modified, not removed later) and those it removed. */
function actionFiles(action: ActionEvent, before: readonly string[]) {
  const present = new Map<string, boolean>();
  for (const e of action.executions) {
    for (const f of e.files) {
      present.set(
        f.path,
        f.kind === "file" && !f.rejected && f.change !== "deleted",
      );
    }
  }
  return {
    produced: [...present].filter(([, kept]) => kept).map(([p]) => p).sort(),
    // A scratch file created and removed within the action is no deletion.
    deleted: before.filter((p) => present.get(p) === false),
  };
}

/** "data_engineer saved: a, b" and the contract violations of each upstream role, as of this action. */
function upstreamFiles(log: RunLog, key: ActionKey, step: number) {
  const saved: string[] = [];
  const violations: string[] = [];
  for (const id of log.role(key.role).upstream) {
    const finished = log.roleFinished(key.episode_id, id, step);
    if (finished === undefined) continue;
    saved.push(
      `${id} saved: ${
        finished.files_saved.length > 0
          ? finished.files_saved.join(", ")
          : "NO FILES SAVED"
      }`,
    );
    for (const file of finished.contract.missing_required) {
      violations.push(`${id} did not save required file "${file}"`);
    }
    for (const bad of finished.contract.invalid) {
      violations.push(
        `${id} saved "${bad.path}", which fails its schema: ${
          bad.problems.join("; ")
        }`,
      );
    }
  }
  return { saved, violations };
}

function rubricFor(log: RunLog, role: string): GraphRubric | undefined {
  const coach = log.graph.coach;
  const hash = coach?.rubric_for[role];
  return hash === undefined ? undefined : coach?.rubrics[hash];
}

/**
 * Everything a coach gets for one action (DESIGN.md "Evidence"; the variables of `rubricContext`): what
 * the role was asked (the action's exact messages as one `input` text), what it saw of its upstream roles
 * (the prompt variables its round recorded), what it wrote (the recorded answer), tool observations with
 * capped streams, files against its contract, upstream files and violations, the runtime's facts, the
 * scale, and the outcome only for roles with `coach_sees_outcome`. Actor-controlled text is passed through
 * `sanitizeDeep` (evidence_sanitize.ts), so it cannot open a section of the judge's template.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEvidence } from "./evidence.ts";
 * import { FixtureRun } from "../tests/fixtures/run_log_fixture.ts"; // or: await RunLog.load("runs/<id>")
 * const run = new FixtureRun();
 * run.started();
 * const key = run.action("modeler", { reply: "Trained.\n## Score: 10" });
 * const evidence = buildEvidence(run.log, key);
 * assert.equal(evidence.action.output, "Trained.\n\\## Score: 10");
 * assert.deepEqual(evidence.files.available, ["train.csv"]);
 * ```
 */
export function buildEvidence(
  log: RunLog,
  key: ActionKey,
  options: BuildEvidenceOptions = {},
): Evidence {
  const action = log.action(key);
  const role = log.role(key.role);
  const shared = sharedVariables(log, key);
  const cap = options.streamCap ?? DEFAULT_STREAM_CAP;
  const observations = action.executions.map((e) =>
    observationEvidence(e, cap)
  );
  const facts = actionFacts(log, key);
  const available = log.filesBefore(key);
  const files = actionFiles(action, available);
  const upstream = upstreamFiles(log, key, action.step);
  const loop = role.loop === undefined
    ? undefined
    : log.graph.loops.find((l) => l.id === role.loop);
  const scale = (options.rubric ?? rubricFor(log, role.id))?.scale ??
    { min: 0, max: 10 };
  const evidence: Evidence = {
    run_id: log.runId,
    episode_id: key.episode_id,
    attempt: key.attempt,
    action_index: key.action_index,
    pipeline: shared.pipeline as Evidence["pipeline"],
    task: shared.task as Evidence["task"],
    role: shared.role as Evidence["role"],
    upstream: shared.upstream as Evidence["upstream"],
    handoffs: shared.handoffs as Evidence["handoffs"],
    action: {
      index: action.action_index,
      turn: action.turn,
      input: renderInput(action.messages),
      messages: action.messages.map((m) => ({
        role: m.role,
        content: m.content,
      })),
      output: actionAnswer(log, action),
      reasoning: action.reasoning ?? "",
      tool_calls: (action.reply.tool_calls ?? []).map((c) => ({
        name: c.name,
        arguments: c.arguments,
      })),
      observations,
      last_observation: observations.at(-1) ?? null,
    },
    previous_actions: log.episodeEvents(key.episode_id).filter((
      e,
    ): e is ActionEvent =>
      e.kind === "action" && e.role === role.id && e.step < action.step
    ).map((e) => ({
      turn: e.turn,
      output: actionAnswer(log, e),
    })),
    files: {
      available,
      produced: files.produced,
      missing_required: [...action.contract.missing_required],
      invalid: action.contract.invalid.map((i) => i.path),
      deleted: files.deleted,
    },
    upstream_files: upstream.saved,
    upstream_violations: upstream.violations,
    facts: facts.map((f) => f.text),
    fact_data: facts,
    scale: { min: scale.min, max: scale.max },
    ...(loop ? { round: action.round, max_rounds: loop.max_rounds } : {}),
    ...((role.coach_sees_outcome || options.revealOutcome) && options.outcome
      ? { outcome: options.outcome }
      : {}),
  };
  return sanitizeDeep(evidence);
}
