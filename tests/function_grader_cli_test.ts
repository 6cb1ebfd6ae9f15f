import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { RunEventSchema } from "../runtime/mod.ts";
import { writeFiles } from "./fixtures/compile_yaml.ts";
import { runCli as cli } from "./run_cli.ts";

Deno.test("run grades with a TS spec's grader function, end to end through the CLI", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_fn_cli_" });
  try {
    await Deno.writeTextFile(
      join(dir, "spec.ts"),
      `import { definePipeline } from ${
        JSON.stringify(resolve("dsl/define_pipeline.ts"))
      };
export default definePipeline({
  version: 1,
  name: "fn_cli",
  models: { m: { provider: "scripted", model: "demo", script: "demo.yaml" } },
  roles: [{
    id: "solver",
    description: "Answers",
    model: "m",
    prompts: { user: "{{ task.q }}" },
    outputs: { answer: { extract: "final_text" } },
  }],
  dataset: { splits: { eval: "tasks.jsonl" }, fields: { id: "id", answer: "a", inputs: { q: "q" } } },
  outcome: {
    grader: "function",
    fn: ({ expected, outputs }) => ({
      metrics: { correct: outputs.solver?.answer?.trim() === expected ? 1 : 0 },
      summary: "compared " + String(outputs.solver?.answer),
    }),
    params: { metrics: { correct: { min: 0, max: 1, comparable: true } } },
    success: { metric: "correct", at_least: 1 },
  },
});
`,
    );
    await writeFiles(dir, {
      "demo.yaml": 'roles:\n  solver: ["4"]\n',
      "tasks.jsonl":
        '{"id": "t1", "q": "2+2", "a": "4"}\n{"id": "t2", "q": "2+3", "a": "5"}\n',
    });
    const out = join(dir, "runs");
    const r = await cli(["run", join(dir, "spec.ts"), "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /success: 1\/2 graded episodes/);
    assert.match(r.stdout, /means: correct 0\.5/);
    const [run] = [...Deno.readDirSync(out)].map((e) => e.name);
    const finished = (await Deno.readTextFile(join(out, run!, "events.jsonl")))
      .trim().split("\n").map((l) => RunEventSchema.parse(JSON.parse(l)))
      .filter((e) => e.kind === "episode_finished");
    assert.deepEqual(
      finished.map((e) =>
        e.kind === "episode_finished" &&
        [
          e.episode_id,
          e.outcome?.grader,
          e.outcome?.metrics,
          e.outcome?.summary,
        ]
      ).sort(),
      [
        ["eval:t1", "function", { correct: 1 }, "compared 4"],
        ["eval:t2", "function", { correct: 0 }, "compared 4"],
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
