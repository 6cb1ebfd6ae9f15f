import assert from "node:assert/strict";
import { buildEvidence } from "../coaches/mod.ts";
import { RunLog } from "../runtime/mod.ts";
import { compileFile } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  createModelClient,
  type EpisodeFinishedEvent,
  loadModelScript,
  runPipeline,
} from "../runtime/mod.ts";
import {
  type RecordedRequest,
  startOpenAIServer,
} from "./fakes/openai_server.ts";

// The shipped pipelines end to end over real HTTP (the loopback server answers as the model) with the
// real sandbox: the replies are the demo scripts', whose code really runs pandas and scikit-learn.

const ROLES: Record<string, string> = {
  "Problem Solver (you)": "problem_solver",
  "Code Executor (you)": "code_executor",
  "Verifier (you)": "verifier",
  "Data Engineer (you)": "data_engineer",
  "Modeler (you)": "modeler",
  "Analyst (you)": "analyst",
};

function roleOf(request: RecordedRequest): { role: string; turn: number } {
  const messages =
    (request.body as { messages: { role: string; content: string }[] })
      .messages;
  const first = messages.find((m) => m.role === "user")?.content ?? "";
  const role = Object.entries(ROLES).find(([marker]) => first.includes(marker))
    ?.[1];
  assert.ok(role, `cannot tell the role of a request: ${first.slice(0, 120)}`);
  return {
    role,
    turn: messages.filter((m) => m.role === "assistant").length + 1,
  };
}

/** Serves a demo script's replies (turn k of a role gets reply k), with per-role overrides. */
async function scriptServer(
  script: string,
  overrides: Record<string, string[]> = {},
) {
  const demo = await loadModelScript(script);
  return startOpenAIServer({
    respond: (request) => {
      const { role, turn } = roleOf(request);
      const replies = overrides[role] ??
        demo.roles[role]!.map((
          r,
        ) => (typeof r === "string" ? r : r.text ?? ""));
      return {
        kind: "reply",
        reply: { text: replies[Math.min(turn, replies.length) - 1]! },
      };
    },
  });
}

async function run(
  spec: string,
  url: string,
  options: { split?: string; limit: number },
) {
  const env = (name: string) => (name === "MAPPA_ACTOR_URL" ? url : undefined);
  const compiled = compileFile(spec, { env });
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const graph = compiled.graph;
  const out = await Deno.makeTempDir({ prefix: "mappa_e2e_" });
  const summary = await runPipeline(graph, {
    model: await createModelClient(graph.models, { env }),
    sandbox: await BwrapSandbox.create(),
  }, {
    policy: "model",
    outDir: out,
    limit: options.limit,
    ...(options.split ? { split: options.split } : {}),
  });
  const finished = (await Deno.readTextFile(`${summary.run_dir}/events.jsonl`))
    .trim().split("\n").map((l) => JSON.parse(l)).filter((e) =>
      e.kind === "episode_finished"
    ) as EpisodeFinishedEvent[];
  return { summary, finished, out };
}

async function buildTasks(): Promise<void> {
  const built = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/dsbench_build.py"],
    stdout: "null",
  })
    .output();
  assert.equal(built.code, 0, "deno task dsbench:build failed");
}

Deno.test("math.yaml grades a boxed answer served over HTTP as correct", async () => {
  await using server = await scriptServer("pipelines/demo/math.yaml");
  const { finished, out } = await run("pipelines/math.yaml", server.url, {
    limit: 1,
  });
  assert.equal(finished.length, 1);
  const outcome = finished[0]!.outcome!;
  assert.deepEqual([
    outcome.grader,
    outcome.valid,
    outcome.correct,
    outcome.success,
  ], [
    "math_equivalence",
    true,
    true,
    true,
  ]);
  assert.equal(outcome.answer, "70");
  assert.equal(outcome.expected, "70");
  await Deno.remove(out, { recursive: true });
});

Deno.test("dsbench.yaml grades a real submission with the task's metric, matching scikit-learn", async () => {
  await buildTasks();
  await using server = await scriptServer("pipelines/demo/dsbench.yaml");
  const { summary, finished, out } = await run(
    "pipelines/dsbench.yaml",
    server.url,
    { limit: 1 },
  );
  const episode = finished[0]!;
  const outcome = episode.outcome!;
  assert.equal(outcome.valid, true, outcome.reason);
  assert.equal(outcome.success, true);
  // Recompute the metric from the stored submission and the hidden answers with scikit-learn.
  const log = await RunLog.load(summary.run_dir);
  const task = log.episodeStarted(episode.episode_id)!.task_id;
  const submission = `${summary.run_dir}/blobs/${
    episode.files["submission.csv"]!.slice(0, 2)
  }/${episode.files["submission.csv"]}`;
  const py = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      [
        "import sys, pandas as pd",
        "from sklearn.metrics import accuracy_score",
        "s = pd.read_csv(sys.argv[1]); a = pd.read_csv(sys.argv[2])",
        "m = a.merge(s, on='id', suffixes=('_true', '_pred'))",
        "t = a.columns[1]",
        "print(accuracy_score(m[t + '_true'].astype(str), m[t + '_pred'].astype(str)))",
      ].join("\n"),
      submission,
      `pipelines/data/dsbench/tasks/${task}/answers.csv`,
    ],
    stdout: "piped",
  }).output();
  const expected = Number(new TextDecoder().decode(py.stdout).trim());
  assert.ok(
    Math.abs(outcome.metrics.accuracy! - expected) < 1e-9,
    `${outcome.metrics.accuracy} vs ${expected}`,
  );
  // score is the relative gap to the task's build-time constant baseline (issue 12, part 5).
  const row = (await Deno.readTextFile("pipelines/data/dsbench/eval.jsonl"))
    .trim().split("\n").map((l) => JSON.parse(l)).find((r) =>
      r.task_id === task
    );
  const gap = Math.max(
    0,
    (expected - row.baseline_score) / (1 - row.baseline_score),
  );
  assert.ok(
    Math.abs(outcome.metrics.score! - gap) < 1e-9,
    `${outcome.metrics.score} vs ${gap}`,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("dsbench.yaml grades a data engineer's missing X_test.pkl as a failure with fair values and blames it", async () => {
  await buildTasks();
  const demo = await loadModelScript("pipelines/demo/dsbench.yaml");
  const engineer = demo.roles.data_engineer!.map((
    r,
  ) => (typeof r === "string" ? r : r.text ?? ""));
  // The same preprocessing, but X_test.pkl is never saved.
  const forgetful = engineer.map((t) =>
    t.replace(/, \("X_test\.pkl", X_test\)/, "")
  );
  assert.notEqual(
    forgetful[0],
    engineer[0],
    "the demo's data engineer saves X_test.pkl in one statement",
  );
  await using server = await scriptServer("pipelines/demo/dsbench.yaml", {
    data_engineer: forgetful,
  });
  const { summary, finished, out } = await run(
    "pipelines/dsbench.yaml",
    server.url,
    { limit: 1 },
  );
  const outcome = finished[0]!.outcome!;
  assert.deepEqual([outcome.valid, outcome.success, outcome.fair], [
    false,
    false,
    true,
  ]);
  assert.match(outcome.reason ?? "", /no submission\.csv in the workspace/);
  // Fair values are the task's constant baseline: never better than submitting the majority class.
  assert.equal(outcome.metrics.score, 0);
  assert.equal(outcome.metrics.valid_submission, 0);
  const task = (await RunLog.load(summary.run_dir)).episodeStarted(
    finished[0]!.episode_id,
  )!.task_id;
  const row = (await Deno.readTextFile("pipelines/data/dsbench/eval.jsonl"))
    .trim().split("\n").map((l) => JSON.parse(l)).find((r) =>
      r.task_id === task
    );
  assert.ok(
    Math.abs(outcome.metrics[row.metric]! - row.baseline_score) < 1e-9,
    `${outcome.metrics[row.metric]} vs ${row.baseline_score}`,
  );
  // The coach's evidence puts the blame upstream: the analyst failed on a file the data engineer owed.
  const log = await RunLog.load(summary.run_dir);
  const analyst = log.actions().find((k) => k.role === "analyst")!;
  const evidence = buildEvidence(log, analyst);
  const upstream = evidence.fact_data.find((f) =>
    f.kind === "upstream_file_missing"
  );
  assert.deepEqual([upstream?.role, upstream?.file], [
    "data_engineer",
    "X_test.pkl",
  ]);
  const engineerAction = log.actions().find((k) => k.role === "data_engineer")!;
  assert.ok(
    buildEvidence(log, engineerAction).fact_data.some((f) =>
      f.kind === "required_file_missing" && f.file === "X_test.pkl"
    ),
  );
  await Deno.remove(out, { recursive: true });
});
