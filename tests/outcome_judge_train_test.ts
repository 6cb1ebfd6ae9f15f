// Training with an outcome judged by a model (grader: llm_judge): the judge grades every rollout; a
// judge without endpoint is never replaced by the demo judge in training: those outcomes are masked.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics, type StepLine } from "../training/mod.ts";
import { startOpenAIServer } from "./fakes/openai_server.ts";
import { runCli } from "./run_cli.ts";
import { writeOneStepAttributionSpec } from "./fixtures/training_fixtures.ts";

function judgedSpec(dir: string): Promise<string> {
  return writeOneStepAttributionSpec(
    dir,
    `  grader: llm_judge
  params: { model: judge, answer: finisher.word, rubric: "Topic {{ task.topic }}: {{ answer }}" }
  success: { metric: score, at_least: 5 }
`,
    {
      edit: (spec) =>
        spec.replace(
          /^models:\n/m,
          'models:\n  judge: { model: judge-model, base_url: "${env.OJ_JUDGE_URL:-}", max_retries: 0 }\n',
        ),
    },
  );
}

function onlyDir(root: string): string {
  const [name] = [...Deno.readDirSync(root)].filter((e) => e.isDirectory)
    .map((e) => e.name);
  return join(root, name!);
}

async function stepLine(out: string): Promise<StepLine> {
  const lines = await readMetrics(onlyDir(out));
  return lines.find((l): l is StepLine => l.type === "step")!;
}

Deno.test("deno task train: an llm_judge outcome is judged for every rollout, and without endpoint is masked, never demo-judged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_train_judge_" });
  try {
    const spec = await judgedSpec(dir);
    await using judge = await startOpenAIServer({
      respond: () => ({
        kind: "reply",
        reply: {
          text: JSON.stringify({ reasoning: "ok", score: 8, blame: null }),
        },
      }),
    });
    const out = join(dir, "judged");
    const ran = await runCli(["train", spec, "--out", out], Deno.cwd(), {
      OJ_JUDGE_URL: judge.url,
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /^outcome: judged by models\.judge/m);
    const line = await stepLine(out);
    assert.deepEqual([line.outcome.graded, line.outcome.ungraded ?? 0], [8, 0]);
    assert.equal(judge.requests.length, 8);
    const log = (await Deno.readTextFile(
      join(onlyDir(out), "outcome_judge.jsonl"),
    )).trim().split("\n");
    assert.equal(log.length, 8);

    const unjudged = join(dir, "unjudged");
    const masked = await runCli(["train", spec, "--out", unjudged]);
    assert.equal(masked.code, 1, masked.stderr);
    assert.match(masked.stderr, /^outcome: models\.judge has no endpoint/m);
    assert.doesNotMatch(masked.stderr, /demo judge/);
    const m = await stepLine(unjudged);
    assert.deepEqual([m.outcome.graded, m.outcome.ungraded], [0, 8]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
