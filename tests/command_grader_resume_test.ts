import assert from "node:assert/strict";
import { join } from "node:path";
import { RunEventSchema } from "../runtime/mod.ts";
import { runCli as cli } from "./run_cli.ts";

/** A copy of pipelines/code_tests.yaml and what it reads, with `rows` as its task set. */
async function codeTestsCopy(rows: Record<string, unknown>[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_cg_resume_" });
  for (
    const f of [
      "code_tests.yaml",
      "graders/code_tests.py",
      "prompts/code_tests/coder.md",
      "demo/code_tests.yaml",
    ]
  ) {
    await Deno.mkdir(join(dir, f, ".."), { recursive: true });
    await Deno.copyFile(join("pipelines", f), join(dir, f));
  }
  await Deno.mkdir(join(dir, "data/code_tests"), { recursive: true });
  await writeRows(dir, rows);
  return dir;
}

async function writeRows(dir: string, rows: Record<string, unknown>[]) {
  await Deno.writeTextFile(
    join(dir, "data/code_tests/tasks.jsonl"),
    rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
  );
}

const ROWS = (await Deno.readTextFile("pipelines/data/code_tests/tasks.jsonl"))
  .trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
  .filter((r) => r.id === "flatten" || r.id === "second_largest");

Deno.test("a command grader that crashes leaves episodes ungraded, and --resume grades them in the sandbox", async () => {
  // The task rows lost their hidden tests: the grader exits with an error, which is no agent's fault.
  const dir = await codeTestsCopy(
    ROWS.map(({ answer: _a, ...rest }) => rest),
  );
  const spec = join(dir, "code_tests.yaml");
  const out = join(dir, "runs");
  try {
    const first = await cli(["run", spec, "--out", out]);
    assert.equal(first.code, 1, first.stderr);
    assert.match(
      first.stderr,
      /^ {2}eval:flatten: command grader_error: the grader failed: \S*graders\/code_tests\.py exited with status 1; stderr: the task row has no hidden tests/m,
    );
    const [run] = [...Deno.readDirSync(out)].map((e) => join(out, e.name));
    await writeRows(dir, ROWS);
    const again = await cli(["run", spec, "--out", out, "--resume", run!]);
    assert.equal(again.code, 0, again.stderr);
    const events = (await Deno.readTextFile(join(run!, "events.jsonl")))
      .trim().split("\n").map((l) => RunEventSchema.parse(JSON.parse(l)));
    const regraded = events.filter((e) =>
      e.kind === "episode_finished" && e.regraded
    );
    assert.deepEqual(
      regraded.map((e) =>
        e.kind === "episode_finished" &&
        [e.episode_id, e.outcome?.ungraded, e.outcome?.metrics.tests_passed]
      ).sort(),
      [["eval:flatten", undefined, 4], ["eval:second_largest", undefined, 2]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
