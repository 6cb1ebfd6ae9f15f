// A fan-out / fan-in pipeline written in TypeScript: a planner splits the work, two checkers run in
// parallel (one proves, one hunts for counterexamples with Python), and a writer merges their findings.
// `deno task check pipelines/review.ts` compiles it like any YAML spec.
import { definePipeline } from "../dsl/define_pipeline.ts";

const actor = {
  model: "Qwen/Qwen3-4B-Instruct-2507",
  family: "qwen",
  sampling: { temperature: 0.7, max_tokens: 2048 },
};

export default definePipeline({
  version: 1,
  name: "claim_review",
  description:
    "Fan-out/fan-in review of a mathematical claim: plan, prove and refute in parallel, then decide.",
  models: {
    actor: { ...actor, base_url: Deno.env.get("MAPPA_ACTOR_URL") ?? "" },
    coach: {
      model: "gpt-4.1",
      family: "gpt",
      base_url: Deno.env.get("MAPPA_COACH_URL") ?? "",
    },
  },
  tools: { python: { language: "python", timeout_s: 20 } },
  roles: [
    {
      id: "planner",
      description:
        "Splits the claim into what must be proved and what a counterexample would look like.",
      model: "actor",
      prompts: { user: "file://prompts/review/planner.md" },
      produces: [{
        path: "plan.json",
        schema: { type: "object", required: ["prove", "refute"] },
      }],
    },
    {
      id: "prover",
      description: "Tries to prove the claim following the plan.",
      model: "actor",
      after: ["planner"],
      consumes: ["plan.json"],
      prompts: { user: "file://prompts/review/prover.md" },
    },
    {
      id: "refuter",
      description:
        "Searches for a counterexample with Python code following the plan.",
      model: "actor",
      after: ["planner"],
      tools: ["python"],
      max_turns: 2,
      consumes: ["plan.json"],
      prompts: { user: "file://prompts/review/refuter.md" },
    },
    {
      id: "writer",
      description:
        "Weighs the proof attempt and the counterexample search and states whether the claim holds.",
      model: "actor",
      after: ["prover", "refuter"],
      sees: {
        prover: ["final_text"],
        refuter: ["final_text", "last_tool_output"],
      },
      outputs: {
        verdict: { extract: "regex", pattern: "VERDICT:\\s*(TRUE|FALSE)" },
      },
      prompts: { user: "file://prompts/review/writer.md" },
      coach_sees_outcome: true,
    },
  ],
  dataset: {
    splits: { eval: "data/debate/claims.jsonl" },
    fields: {
      id: "id",
      answer: "label",
      category: "topic",
      inputs: { claim: "claim" },
    },
  },
  coach: {
    model: "coach",
    rubric: "file://rubrics/review.yaml",
    rubrics: { writer: "file://rubrics/review_writer.yaml" },
  },
  outcome: {
    grader: "exact_match",
    params: { answer: "writer.verdict" },
    success: { metric: "correct", at_least: 1 },
  },
});
