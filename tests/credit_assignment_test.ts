/**
 * Credit assignment end to end (issue 4): a DSBench-shaped episode run for real (scripted model, bubblewrap
 * sandbox, Python with pandas and scikit-learn) where the data engineer never saves X_test.pkl and the
 * analyst then fails on it. The evidence must name the data engineer's missing file and the analyst's
 * upstream-caused failure, and a deterministic coach must score the data engineer low and the analyst not
 * at fault.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile, type GraphRubric } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  runPipeline,
  ScriptedModelClient,
} from "../runtime/mod.ts";
import { buildEvidence } from "../coaches/evidence.ts";
import { judgeDeterministically } from "../coaches/deterministic_judge.ts";
import { RunLog } from "../runtime/mod.ts";
import { type Evidence, VerdictSchema } from "../coaches/types.ts";

const SPEC = `version: 1
name: credit
description: Data engineer -> modeler -> analyst over one tiny tabular task.
models:
  actor: { provider: scripted, model: demo }
tools:
  python: { language: python, timeout_s: 60 }
roles:
  - id: data_engineer
    description: Saves X_train.pkl, y_train.pkl and X_test.pkl from train.csv and test.csv.
    model: actor
    tools: [python]
    max_turns: 2
    consumes: [train.csv, test.csv]
    produces: [X_train.pkl, y_train.pkl, X_test.pkl]
    prompts: { user: "{{ task.description }} Files: {{ files | join: ', ' }}" }
  - id: modeler
    description: Trains a model on X_train.pkl and y_train.pkl and saves model.pkl.
    model: actor
    after: [data_engineer]
    tools: [python]
    max_turns: 2
    consumes: [X_train.pkl, y_train.pkl]
    produces: [model.pkl]
    prompts: { user: "{{ task.description }} Preprocessing: {{ upstream.data_engineer.final_text }}" }
  - id: analyst
    description: Predicts X_test.pkl with model.pkl and writes submission.csv.
    model: actor
    after: [modeler]
    sees:
      data_engineer: [final_text, files]
      modeler: [final_text, files, last_tool_output]
    tools: [python]
    max_turns: 2
    consumes: [model.pkl, X_test.pkl, test.csv]
    produces: [submission.csv]
    prompts: { user: "{{ task.description }} Model: {{ upstream.modeler.final_text }}" }
dataset:
  splits: { eval: tasks.json }
  fields: { id: id, inputs: { description: description } }
  files:
    - { path: train.csv, as: train.csv }
    - { path: test.csv, as: test.csv }
coach:
  model: actor
  rubric:
    name: credit_offline
    default_score: 8
    checks:
      - { id: missing_file, when: required_file_missing, cap: 2 }
      - { id: upstream_fault, when: upstream_file_missing, floor: 5, roles: [analyst] }
      - { id: crashed, when: tool_error, cap: 6 }
`;

const python = (code: string) => "```python\n" + code.trim() + "\n```";

const SCRIPT = {
  after_last: "repeat_last" as const,
  tasks: {},
  roles: {
    data_engineer: [
      python(`
import pickle
import pandas as pd
train = pd.read_csv("train.csv")
X, y = train[["x1", "x2"]], train["label"]
pickle.dump(X, open("X_train.pkl", "wb"))
pickle.dump(y, open("y_train.pkl", "wb"))
print("saved X_train.pkl, y_train.pkl", X.shape)
`),
      "Preprocessing is done.",
    ],
    modeler: [
      python(`
import pickle
from sklearn.linear_model import LogisticRegression
X = pickle.load(open("X_train.pkl", "rb"))
y = pickle.load(open("y_train.pkl", "rb"))
model = LogisticRegression().fit(X, y)
pickle.dump(model, open("model.pkl", "wb"))
print("---MODEL_SUMMARY--- accuracy", model.score(X, y))
`),
      "The model is saved as model.pkl.",
    ],
    analyst: [
      python(`
import pickle
import pandas as pd
model = pickle.load(open("model.pkl", "rb"))
X_test = pickle.load(open("X_test.pkl", "rb"))
pd.DataFrame({"id": pd.read_csv("test.csv")["id"], "label": model.predict(X_test)}).to_csv("submission.csv", index=False)
`),
      "I could not predict: X_test.pkl does not exist.",
    ],
  },
};

function csv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.join(",")).join("\n") + "\n";
}

async function runEpisode(dir: string): Promise<RunLog> {
  await Deno.writeTextFile(join(dir, "spec.yaml"), SPEC);
  await Deno.writeTextFile(
    join(dir, "tasks.json"),
    JSON.stringify([{ id: "t1", description: "Predict label from x1, x2." }]),
  );
  const train: (string | number)[][] = [["id", "x1", "x2", "label"]];
  for (let i = 0; i < 12; i++) train.push([i, i, (i * 7) % 5, i < 6 ? 0 : 1]);
  await Deno.writeTextFile(join(dir, "train.csv"), csv(train));
  await Deno.writeTextFile(
    join(dir, "test.csv"),
    csv([["id", "x1", "x2"], [100, 2, 1], [101, 9, 3]]),
  );
  const compiled = compileFile(join(dir, "spec.yaml"));
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const summary = await runPipeline(compiled.graph, {
    model: new ScriptedModelClient(SCRIPT),
    sandbox: await BwrapSandbox.create(),
  }, { policy: "demo", outDir: join(dir, "runs") });
  assert.equal(summary.episodes_done, 1);
  return await RunLog.load(summary.run_dir);
}

function factsOf(evidence: Evidence, kind: string) {
  return evidence.fact_data.filter((f) => f.kind === kind);
}

Deno.test("a deterministic coach blames the data engineer for X_test.pkl, not the analyst who failed on it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_credit_" });
  try {
    const log = await runEpisode(dir);
    const keys = log.actions();
    assert.deepEqual(keys.map((k) => k.role), [
      "data_engineer",
      "data_engineer",
      "modeler",
      "modeler",
      "analyst",
      "analyst",
    ]);
    const evidence = keys.map((k) => buildEvidence(log, k));
    const [de, , modeler, , analyst] = evidence as [
      Evidence,
      Evidence,
      Evidence,
      Evidence,
      Evidence,
    ];

    assert.deepEqual(
      factsOf(de, "required_file_missing").map((f) => [f.role, f.file]),
      [["data_engineer", "X_test.pkl"]],
    );
    assert.deepEqual(de.files.produced, ["X_train.pkl", "y_train.pkl"]);
    assert.equal(de.task.description, "Predict label from x1, x2.");

    assert.deepEqual(modeler.fact_data, []);
    assert.deepEqual(modeler.upstream_violations, [
      'data_engineer did not save required file "X_test.pkl"',
    ]);

    assert.equal(analyst.action.observations[0]?.status, "error");
    assert.match(analyst.action.observations[0]!.stderr, /FileNotFoundError/);
    const upstream = factsOf(analyst, "upstream_file_missing");
    assert.deepEqual(upstream.map((f) => [f.role, f.file]), [
      ["data_engineer", "X_test.pkl"],
    ]);
    assert.match(upstream[0]!.text, /caused upstream, not by analyst/);
    assert.ok(
      analyst.upstream_violations.some((v) =>
        v.includes("data_engineer") && v.includes("X_test.pkl")
      ),
    );
    assert.deepEqual(analyst.upstream_files, [
      "data_engineer saved: X_train.pkl, y_train.pkl",
      "modeler saved: model.pkl",
    ]);
    assert.deepEqual(Object.keys(analyst.upstream), [
      "data_engineer",
      "modeler",
    ]);
    assert.match(
      String((analyst.upstream.modeler as { final_text: string }).final_text),
      /model\.pkl/,
    );
    assert.equal(analyst.outcome, undefined);
    assert.ok(!analyst.files.available.includes("X_test.pkl"));

    const rubric = Object.values(log.graph.coach!.rubrics)[0] as GraphRubric;
    const verdicts = evidence.map((e) =>
      VerdictSchema.parse(judgeDeterministically(rubric, e))
    );
    const byRole = (role: string) =>
      verdicts.filter((v) => v.role === role).map((v) => v.score);
    for (const s of byRole("data_engineer")) assert.ok(s! <= 2, `DE ${s}`);
    for (const s of byRole("analyst")) assert.ok(s! >= 5, `analyst ${s}`);
    assert.deepEqual(byRole("modeler"), [8, 8]);
    assert.ok(verdicts.every((v) => v.raw_score === 8));
    assert.equal(verdicts[4]!.blame, "data_engineer");
    assert.equal(verdicts[0]!.blame, "data_engineer");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
