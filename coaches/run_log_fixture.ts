import { compile, type ExecutionGraph } from "../dsl/mod.ts";
import {
  type ActionEvent,
  type Execution,
  type RunEvent,
  RunEventSchema,
} from "../runtime/mod.ts";
import { type ActionKey, RunLog } from "./run_log.ts";

// Test fixtures: a DSBench-shaped compiled graph and valid run-log events built by hand, without a run.

/** A data engineer -> modeler -> analyst spec with a deterministic rubric, for coach unit tests. */
export const FIXTURE_SPEC = `version: 1
name: fixture
models: { m: { provider: scripted, model: demo } }
tools: { python: { language: python } }
roles:
  - id: data_engineer
    description: Saves the pickles.
    model: m
    tools: [python]
    max_turns: 3
    consumes: [train.csv]
    produces: [X_train.pkl, X_test.pkl, { path: report.json, required: false, schema: { type: object } }]
    prompts: { user: "Preprocess {{ task.description }}" }
  - id: modeler
    description: Trains and saves model.pkl.
    model: m
    after: [data_engineer]
    tools: [python]
    consumes: [X_train.pkl]
    produces: [model.pkl]
    prompts: { user: "Train. {{ upstream.data_engineer.final_text }}" }
  - id: analyst
    description: Predicts and answers.
    model: m
    after: [modeler]
    sees: { data_engineer: [final_text, files, all_actions], modeler: [final_text, last_tool_output, outputs] }
    tools: [python]
    max_turns: 2
    consumes: [model.pkl, X_test.pkl]
    produces: [submission.csv]
    outputs: { answer: { extract: last_boxed } }
    coach_sees_outcome: true
    prompts: { user: "Predict." }
dataset:
  splits: { eval: tasks.json }
  fields: { id: id, inputs: { description: description } }
  files: [{ path: train.csv, as: train.csv }]
coach:
  model: m
  rubric: { name: fixture_rubric, default_score: 8 }
`;

/**
 * The compiled {@linkcode FIXTURE_SPEC} (or another spec's text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureGraph } from "./run_log_fixture.ts";
 * assert.deepEqual(fixtureGraph().roles.map((r) => r.id), ["data_engineer", "modeler", "analyst"]);
 * ```
 */
export function fixtureGraph(spec: string = FIXTURE_SPEC): ExecutionGraph {
  const result = compile(spec, { file: "fixture.yaml" });
  if (!result.ok) {
    throw new TypeError(
      `Cannot compile the fixture spec: ${
        result.diagnostics.map((d) => d.message).join("; ")
      }`,
    );
  }
  return result.graph;
}

/**
 * An execution record; `created` lists created files unless `files` gives the changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureExecution } from "./run_log_fixture.ts";
 * assert.equal(fixtureExecution({ created: ["a.pkl"] }).files[0]?.change, "created");
 * ```
 */
export function fixtureExecution(
  fields: Partial<Omit<Execution, "stdout" | "stderr" | "files">> & {
    stdout?: string;
    stderr?: string;
    created?: readonly string[];
    files?: Execution["files"];
  } = {},
): Execution {
  const stream = (text = "") => ({
    text,
    total_bytes: new TextEncoder().encode(text).length,
    truncated: false,
  });
  const { stdout, stderr, created, files, ...rest } = fields;
  return {
    tool: "python",
    language: "python",
    code: "print(1)",
    status: "ok",
    exit_code: 0,
    signal: null,
    wall_ms: 10,
    backend: "bwrap-v1",
    ...rest,
    stdout: stream(stdout),
    stderr: stream(stderr),
    files: files ??
      (created ?? []).map((path) => ({
        path,
        change: "created" as const,
        kind: "file" as const,
        size: 1,
      })),
  };
}

type ActionFields = Partial<Omit<ActionEvent, "reply" | "contract">> & {
  reply?: string;
  contract?: Partial<ActionEvent["contract"]>;
};

/**
 * Builds one episode's events (`eval:t1` unless named), each validated, and feeds them to a {@linkcode RunLog}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FixtureRun } from "./run_log_fixture.ts";
 * const run = new FixtureRun();
 * run.started();
 * const key = run.action("data_engineer");
 * assert.equal(run.log.action(key).turn, 1);
 * ```
 */
export class FixtureRun {
  readonly log: RunLog;
  readonly events: RunEvent[] = [];
  #step = 0;
  #index = new Map<string, number>();
  #turn = new Map<string, number>();

  constructor(graph: ExecutionGraph = fixtureGraph()) {
    this.log = RunLog.fromGraph(graph, "fixture__0__1");
  }

  #add(event: Record<string, unknown>): RunEvent {
    const parsed = RunEventSchema.parse({
      run_id: "fixture__0__1",
      step: this.#step++,
      ts: "2026-01-01T00:00:00.000Z",
      ...event,
    });
    this.events.push(parsed);
    this.log.add(parsed);
    return parsed;
  }

  /** `episode_started` of attempt `attempt` of `eval:t1` (or `episode`), with its recorded task and files. */
  started(
    attempt = 1,
    episode = "eval:t1",
    recorded: {
      task?: { inputs: Record<string, string>; answer: unknown };
      files?: Record<string, string>;
    } = {},
  ): void {
    this.#index.set(episode, 0);
    this.#turn.clear();
    this.#add({
      kind: "episode_started",
      role: null,
      episode_id: episode,
      attempt,
      task_id: episode.split(":")[1],
      split: "eval",
      index: 0,
      category: "binary",
      workspace: "/tmp/w",
      ...recorded,
    });
  }

  /** One action of `role`; returns its key. */
  action(role: string, fields: ActionFields = {}): ActionKey {
    const episode = fields.episode_id ?? "eval:t1";
    const attempt = fields.attempt ?? 1;
    const index = this.#index.get(episode) ?? 0;
    this.#index.set(episode, index + 1);
    const turn = (this.#turn.get(role) ?? 0) + 1;
    this.#turn.set(role, turn);
    const { reply, contract, ...rest } = fields;
    this.#add({
      kind: "action",
      role,
      episode_id: episode,
      attempt,
      action_index: index,
      turn,
      round: 1,
      messages: [{ role: "user", content: `prompt of ${role}` }],
      reply: { role: "assistant", content: reply ?? "done" },
      model_call: {
        ok: true,
        provider: "scripted",
        model: "m",
        latency_ms: 1,
        attempts: 1,
      },
      executions: [],
      ignored_code_blocks: 0,
      stop_reason: "no_tool_call",
      ...rest,
      contract: {
        missing_required: [],
        missing_inputs: [],
        invalid: [],
        ...contract,
      },
    });
    return { episode_id: episode, attempt, action_index: index, role };
  }

  /** `role_finished` of `role` (round 1 unless given). */
  finished(
    role: string,
    fields: {
      files_saved?: string[];
      outputs?: Record<string, string | null>;
      contract?: Partial<ActionEvent["contract"]>;
      attempt?: number;
      round?: number;
    } = {},
  ): void {
    this.#turn.delete(role);
    this.#add({
      kind: "role_finished",
      role,
      episode_id: "eval:t1",
      attempt: fields.attempt ?? 1,
      round: fields.round ?? 1,
      actions: 1,
      outputs: fields.outputs ?? {},
      files_saved: fields.files_saved ?? [],
      contract: {
        missing_required: [],
        missing_inputs: [],
        invalid: [],
        ...fields.contract,
      },
    });
  }
}
