import assert from "node:assert/strict";
import { compileFile } from "../dsl/mod.ts";
import { loadTasks, type Task } from "../runtime/mod.ts";

/** A task's prompt as the agents see it: its template inputs, whitespace and case normalized. */
function promptOf(task: Task): string {
  return Object.entries(task.inputs).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v.replace(/\s+/g, " ").trim().toLowerCase()}`)
    .join("\n");
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("every shipped pipeline's eval splits are disjoint from its training split (no eval prompt is trained on)", async () => {
  let checked = 0;
  for await (const entry of Deno.readDir("pipelines")) {
    if (!entry.isFile || !entry.name.endsWith(".yaml")) continue;
    const path = `pipelines/${entry.name}`;
    const compiled = compileFile(path);
    assert.ok(compiled.ok, path);
    const { graph } = compiled;
    const train = graph.train;
    if (train === undefined) continue;
    const splits = [train.split, ...train.eval.splits];
    // A dataset the user provides (dsbench_original.yaml: DSBENCH_TRAIN / DSBENCH_EVAL) is not shipped.
    const sources = splits.map((s) => graph.dataset.splits[s]!);
    if (
      sources.some((s) => s.is_url) ||
      !(await Promise.all(sources.map((s) => exists(s.source)))).every(Boolean)
    ) continue;
    const trained = new Map(
      (await loadTasks(graph.dataset, train.split)).tasks.map((t) => [
        promptOf(t),
        t.id,
      ]),
    );
    for (const split of train.eval.splits) {
      const { tasks } = await loadTasks(graph.dataset, split);
      assert(tasks.length > 0, `${path}: eval split "${split}" is empty`);
      const shared = tasks.filter((t) => trained.has(promptOf(t)))
        .map((t) => `${t.id} (train ${trained.get(promptOf(t))})`);
      assert.deepEqual(
        shared,
        [],
        `${path}: ${shared.length} of ${tasks.length} "${split}" tasks are also in "${train.split}"`,
      );
      checked++;
    }
  }
  // relay (eval), math (aime_2025, amc) and dsbench (eval) at least.
  assert(checked >= 4, `only ${checked} eval splits checked`);
});
