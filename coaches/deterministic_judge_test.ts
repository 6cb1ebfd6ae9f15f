import assert from "node:assert/strict";
import type { GraphRubric } from "../dsl/mod.ts";
import { judgeDeterministically } from "./deterministic_judge.ts";
import { buildEvidence } from "./evidence.ts";
import {
  fixtureExecution,
  FixtureRun,
} from "../tests/fixtures/run_log_fixture.ts";
import { VerdictSchema } from "./types.ts";

const RUBRIC: GraphRubric = {
  name: "offline",
  hash: "0123456789ab",
  file: "offline.yaml",
  scale: { min: 0, max: 10 },
  default_score: 8,
  checks: [{ id: "missing", when: "required_file_missing", cap: 2 }],
  caps: [],
};

Deno.test("judgeDeterministically() scores default_score through the checks into a valid verdict", () => {
  const run = new FixtureRun();
  run.started();
  const key = run.action("data_engineer", {
    executions: [fixtureExecution({ created: ["X_train.pkl"] })],
    contract: { missing_required: ["X_test.pkl"] },
  });
  const verdict = judgeDeterministically(RUBRIC, buildEvidence(run.log, key), {
    now: () => new Date("2026-01-02T03:04:05.000Z"),
  });
  assert.deepEqual(VerdictSchema.parse(verdict), verdict);
  assert.deepEqual(
    {
      status: verdict.status,
      raw: verdict.raw_score,
      score: verdict.score,
      blame: verdict.blame,
      rubric: verdict.rubric,
      applied: verdict.applied,
      ts: verdict.ts,
      judge: [
        verdict.judge.kind,
        verdict.judge.model,
        verdict.judge.raw,
        verdict.judge.attempts,
        verdict.judge.cache_hit,
      ],
    },
    {
      status: "scored",
      raw: 8,
      score: 2,
      blame: "data_engineer",
      rubric: { name: "offline", hash: "0123456789ab" },
      applied: [{ id: "missing", kind: "check", effect: "cap", value: 2 }],
      ts: "2026-01-02T03:04:05.000Z",
      judge: ["deterministic", null, [], 0, false],
    },
  );
  assert.match(verdict.reasoning, /did not save required file "X_test\.pkl"/);
});

Deno.test("judgeDeterministically() keeps the default score when no fact holds", () => {
  const run = new FixtureRun();
  run.started();
  const key = run.action("modeler", {
    executions: [fixtureExecution({ created: ["model.pkl"] })],
  });
  const verdict = judgeDeterministically(RUBRIC, buildEvidence(run.log, key));
  assert.equal(verdict.score, 8);
  assert.equal(verdict.blame, null);
  assert.deepEqual(verdict.applied, []);
});

Deno.test("judgeDeterministically() refuses a rubric that needs an LLM judge or has no default", () => {
  const run = new FixtureRun();
  run.started();
  const evidence = buildEvidence(run.log, run.action("modeler"));
  assert.throws(
    () =>
      judgeDeterministically(
        { ...RUBRIC, template: "Score {{ x }}" },
        evidence,
      ),
    /^TypeError: Cannot judge with rubric "offline" deterministically: it has a template/,
  );
  const { default_score: _, ...noDefault } = RUBRIC;
  assert.throws(
    () => judgeDeterministically(noDefault, evidence),
    /it has no default_score/,
  );
});
