import type { OutcomeJudgeDecl } from "./outcome_judges.ts";
import type { Pipeline, Role } from "./schema.ts";

/** What a template may read: `"leaf"` allows any deeper access (lists, text); a record lists its keys. */
export type ContextShape = "leaf" | { readonly [key: string]: ContextShape };

function leaves(keys: readonly string[]): Record<string, "leaf"> {
  return Object.fromEntries(keys.map((k) => [k, "leaf" as const]));
}

/** Keys of a handoff item beyond the plain leaf: `outputs` lists the upstream role's declared outputs. */
const ROLE_MAPS = new WeakMap<Pipeline, Map<string, Role>>();

function rolesOf(spec: Pipeline): Map<string, Role> {
  let map = ROLE_MAPS.get(spec);
  if (!map) {
    map = new Map(spec.roles.map((r) => [r.id, r]));
    ROLE_MAPS.set(spec, map);
  }
  return map;
}

function upstreamShape(
  spec: Pipeline,
  sees: Readonly<Record<string, readonly string[]>>,
): Record<string, ContextShape> {
  const out: Record<string, ContextShape> = {};
  for (const [id, items] of Object.entries(sees)) {
    const role = rolesOf(spec).get(id);
    const shape: Record<string, ContextShape> = {
      role: leaves(["id", "name", "description"]),
    };
    for (const item of items) {
      shape[item] = item === "outputs"
        ? leaves(Object.keys(role?.outputs ?? {}))
        : "leaf";
    }
    out[id] = shape;
  }
  return out;
}

/** The task fields a template may read: `id`, `category` when the dataset declares one, and the inputs. */
export function taskShape(spec: Pipeline): Record<string, ContextShape> {
  const fields = spec.dataset.fields;
  return leaves([
    "id",
    ...(fields.category !== undefined ? ["category"] : []),
    ...Object.keys(fields.inputs),
  ]);
}

const ROLE = leaves([
  "id",
  "name",
  "description",
  "max_turns",
  "tools",
  "produces",
  "consumes",
]);

/** Where a role stands in the flow, which its templates' context depends on. */
export interface RolePlace {
  /** Upstream role id -> the handoff items this role sees of it. */
  readonly sees: Readonly<Record<string, readonly string[]>>;
  /** Whether the role is in a loop group (its templates may read `round` and `max_rounds`). */
  readonly inLoop: boolean;
}

/** What both prompts and rubrics may read: the pipeline, the task, the role and its handoffs. */
function sharedContext(
  spec: Pipeline,
  place: RolePlace,
): Record<string, ContextShape> {
  return {
    pipeline: leaves(["name", "description", "roles"]),
    task: taskShape(spec),
    role: ROLE,
    upstream: upstreamShape(spec, place.sees),
    handoffs: "leaf",
    ...(place.inLoop ? { round: "leaf", max_rounds: "leaf" } : {}),
  };
}

/** Variables a role's prompt templates may use. Agents never see outcome facts. */
export function promptContext(
  spec: Pipeline,
  place: RolePlace,
): Record<string, ContextShape> {
  return {
    ...sharedContext(spec, place),
    files: "leaf",
    missing_inputs: "leaf",
    turn: "leaf",
  };
}

/** The outcome facts a coach may be shown for roles allowed them. */
export const OUTCOME_SHAPE: ContextShape = leaves([
  "expected",
  "answer",
  "correct",
  "success",
  "metrics",
  "summary",
]);

/** Variables a rubric template may use when it scores a role; `outcome` only with `coach_sees_outcome`. */
export function rubricContext(
  spec: Pipeline,
  role: Role,
  place: RolePlace,
): Record<string, ContextShape> {
  return {
    ...sharedContext(spec, place),
    action: leaves([
      "index",
      "turn",
      "input",
      "messages",
      "output",
      "reasoning",
      "tool_calls",
      "observations",
      "last_observation",
    ]),
    previous_actions: "leaf",
    files: leaves([
      "available",
      "produced",
      "missing_required",
      "invalid",
      "deleted",
    ]),
    upstream_files: "leaf",
    upstream_violations: "leaf",
    facts: "leaf",
    scale: leaves(["min", "max"]),
    // With coach.rejudge_with_outcome every coached role is judged again once the outcome is known.
    ...(role.coach_sees_outcome || spec.coach?.rejudge_with_outcome
      ? { outcome: OUTCOME_SHAPE }
      : {}),
  };
}

/**
 * Variables the rubric of an `llm_judge` outcome may use: the pipeline, the task, the expected answer,
 * what is judged (`answer`, or `answers.<name>` for named answers), every role's declared outputs, the
 * scale, and the workspace's file list when `outcome.params.files` is true.
 */
export function outcomeJudgeContext(
  spec: Pipeline,
  judge: OutcomeJudgeDecl,
): Record<string, ContextShape> {
  const answer = judge.params.answer;
  return {
    pipeline: leaves(["name", "description", "roles"]),
    task: taskShape(spec),
    // Without dataset.fields.answer no row has an expected answer to show.
    ...(spec.dataset.fields.answer !== undefined
      ? { expected: "leaf" as const }
      : {}),
    ...(typeof answer === "string"
      ? { answer: "leaf" as const }
      : { answers: leaves(Object.keys(answer)) }),
    outputs: Object.fromEntries(
      spec.roles.map((r) => [r.id, leaves(Object.keys(r.outputs ?? {}))]),
    ),
    scale: leaves(["min", "max"]),
    ...(judge.params.files ? { files: "leaf" as const } : {}),
  };
}
