import assert from "node:assert/strict";
import { compileFile } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  type RunEvent,
  runPipeline,
  ScriptedModelClient,
} from "../runtime/mod.ts";

Deno.test("runPipeline() fails a task whose input file is missing and runs the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_fail_" });
  await Deno.writeTextFile(`${dir}/a.csv`, "x\n1\n");
  await Deno.writeTextFile(
    `${dir}/tasks.jsonl`,
    ['{"id": "ok", "file": "a.csv"}', '{"id": "broken", "file": "missing.csv"}']
      .join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/spec.yaml`,
    [
      "version: 1",
      "name: fail",
      "models: { m: { provider: scripted, model: demo } }",
      "roles:",
      "  - { id: reader, description: reads, model: m, consumes: [input.csv], prompts: { user: 'Read {{ files }}' } }",
      "dataset:",
      "  splits: { eval: tasks.jsonl }",
      "  fields: { id: id, inputs: { file: file } }",
      "  files: [{ path: '{{ task.file }}', as: input.csv }]",
    ].join("\n") + "\n",
  );
  const compiled = compileFile(`${dir}/spec.yaml`);
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const events: RunEvent[] = [];
  const summary = await runPipeline(compiled.graph, {
    model: new ScriptedModelClient({
      after_last: "repeat_last",
      roles: { reader: ["I read it."] },
      tasks: {},
    }),
    sandbox: await BwrapSandbox.create(),
  }, {
    policy: "demo",
    outDir: `${dir}/runs`,
    concurrency: 2,
    onEvent: (e) => events.push(e),
  });
  assert.equal(summary.status, "completed");
  assert.equal(summary.episodes_done, 1);
  assert.equal(summary.episodes_failed, 1);
  const finished = events.filter((e) => e.kind === "episode_finished");
  const broken = finished.find((e) =>
    e.kind === "episode_finished" && e.episode_id === "eval:broken"
  );
  assert.ok(broken && broken.kind === "episode_finished");
  assert.equal(broken.status, "failed");
  assert.match(
    broken.error ?? "",
    /^Cannot prepare the workspace of task "broken": /,
  );
  assert.equal(broken.actions, 0);
  await Deno.remove(dir, { recursive: true });
});
