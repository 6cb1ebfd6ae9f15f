import { RubricSchema } from "../dsl/mod.ts";
import type { GraphRubric } from "../dsl/mod.ts";
import type { Evidence } from "./types.ts";

// Test fixtures of the LLM judge: one action's evidence and a rubric, without a run.

/**
 * The evidence of one action of a DSBench-shaped data engineer that did not save `X_test.pkl`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureEvidence } from "./llm_judge_fixture.ts";
 * assert.equal(fixtureEvidence({ action_index: 2 }).action.index, 2);
 * ```
 */
export function fixtureEvidence(
  fields: { readonly action_index?: number; readonly output?: string } = {},
): Evidence {
  const index = fields.action_index ?? 0;
  return {
    run_id: "dsbench__0__1",
    episode_id: "eval:t1",
    attempt: 1,
    action_index: index,
    pipeline: {
      name: "dsbench",
      description: "Data engineer, modeler, analyst",
      roles: ["data_engineer", "modeler", "analyst"],
    },
    task: { id: "t1", category: "classification", question: "Predict churn" },
    role: {
      id: "data_engineer",
      name: "Data engineer",
      description: "Prepares X_train.pkl, y_train.pkl and X_test.pkl",
      max_turns: 4,
      tools: ["python"],
      produces: ["X_train.pkl", "y_train.pkl", "X_test.pkl"],
      consumes: ["train.csv", "test.csv"],
    },
    upstream: {},
    handoffs: [],
    action: {
      index,
      turn: index,
      input: "[user]\nPrepare the data.",
      messages: [{ role: "user", content: "Prepare the data." }],
      output: fields.output ?? "I saved X_train.pkl and y_train.pkl.",
      reasoning: "",
      tool_calls: [],
      observations: [],
      last_observation: null,
    },
    previous_actions: [],
    files: {
      available: ["train.csv", "test.csv", "X_train.pkl", "y_train.pkl"],
      produced: ["X_train.pkl", "y_train.pkl"],
      missing_required: ["X_test.pkl"],
      invalid: [],
      deleted: [],
    },
    upstream_files: [],
    upstream_violations: [],
    facts: ['data_engineer did not save required file "X_test.pkl"'],
    fact_data: [{
      kind: "required_file_missing",
      role: "data_engineer",
      file: "X_test.pkl",
      text: 'data_engineer did not save required file "X_test.pkl"',
    }],
    scale: { min: 0, max: 10 },
  };
}

/** The default judge template of the fixtures. */
export const FIXTURE_TEMPLATE = [
  "Judge the action of {{ role.name }} ({{ role.id }}) on task {{ task.id }}.",
  "It said: {{ action.output }}",
  "Files produced: {{ files.produced | join: ', ' }}; missing: {{ files.missing_required | join: ', ' }}.",
  "{% for f in facts %}Fact: {{ f }}\n{% endfor %}Score from {{ scale.min }} to {{ scale.max }}.",
].join("\n");

/**
 * A rubric with a judge template, as the compiled graph holds it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureRubric } from "./llm_judge_fixture.ts";
 * assert.equal(fixtureRubric().scale.max, 10);
 * ```
 */
export function fixtureRubric(
  fields: {
    readonly template?: string;
    readonly scale?: { min: number; max: number };
  } = {},
): GraphRubric {
  return {
    ...RubricSchema.parse({
      name: "dsbench",
      template: fields.template ?? FIXTURE_TEMPLATE,
      ...(fields.scale !== undefined ? { scale: fields.scale } : {}),
    }),
    hash: "0123456789ab",
    file: "rubrics/dsbench.md",
  };
}
