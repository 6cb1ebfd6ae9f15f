import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fixtureEvidence, fixtureRubric } from "./llm_judge_fixture.ts";
import { renderJudgePrompt } from "./render_judge_prompt.ts";

Deno.test("renderJudgePrompt() renders the rubric with the evidence's variables", () => {
  const prompt = renderJudgePrompt(fixtureEvidence(), fixtureRubric());
  assert.equal(
    prompt.text,
    [
      "Judge the action of Data engineer (data_engineer) on task t1.",
      "It said: I saved X_train.pkl and y_train.pkl.",
      "Files produced: X_train.pkl, y_train.pkl; missing: X_test.pkl.",
      'Fact: data_engineer did not save required file "X_test.pkl"',
      "Score from 0 to 10.",
    ].join("\n"),
  );
  assert.equal(
    prompt.sha256,
    createHash("sha256").update(prompt.text).digest("hex"),
  );
});

Deno.test("renderJudgePrompt() gives another hash for other evidence or another template", () => {
  const base = renderJudgePrompt(fixtureEvidence(), fixtureRubric());
  const again = renderJudgePrompt(fixtureEvidence(), fixtureRubric());
  const output = renderJudgePrompt(
    fixtureEvidence({ output: "Saved all three." }),
    fixtureRubric(),
  );
  const template = renderJudgePrompt(
    fixtureEvidence(),
    fixtureRubric({ template: "Rate {{ role.id }}." }),
  );
  assert.equal(again.sha256, base.sha256);
  assert.notEqual(output.sha256, base.sha256);
  assert.equal(template.text, "Rate data_engineer.");
  assert.notEqual(template.sha256, base.sha256);
});

Deno.test("renderJudgePrompt() shows outcome facts only when the evidence holds them", () => {
  const rubric = fixtureRubric({
    template:
      "{% if outcome %}Outcome: {{ outcome.summary }}{% else %}No outcome{% endif %}",
  });
  assert.equal(renderJudgePrompt(fixtureEvidence(), rubric).text, "No outcome");
  const evidence = {
    ...fixtureEvidence(),
    outcome: {
      expected: 1,
      answer: 1,
      correct: true,
      success: true,
      metrics: { roc_auc: 0.85 },
      summary: "ROC-AUC 0.85",
    },
  };
  assert.equal(
    renderJudgePrompt(evidence, rubric).text,
    "Outcome: ROC-AUC 0.85",
  );
});

Deno.test("renderJudgePrompt() refuses a rubric without a template", () => {
  const { template: _, ...deterministic } = fixtureRubric();
  assert.throws(() => renderJudgePrompt(fixtureEvidence(), deterministic), {
    name: "TypeError",
    message:
      'Cannot render the judge prompt of rubric "dsbench": it has no template; it is a deterministic coach',
  });
});

Deno.test("renderJudgePrompt() names the rubric when its template cannot be rendered", () => {
  assert.throws(
    () =>
      renderJudgePrompt(
        fixtureEvidence(),
        fixtureRubric({ template: "{{ role.id | no_such_filter }}" }),
      ),
    {
      name: "TypeError",
      message:
        /^Cannot render the judge prompt of rubric "dsbench" \(rubrics\/dsbench\.md\): /,
    },
  );
});
