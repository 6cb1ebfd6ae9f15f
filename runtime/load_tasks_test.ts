// Answers located from the spec: row paths relative to their dataset file, and a build manifest that a
// run checks (issue 12, part 3), on real builds of the DSBench task set.
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/mod.ts";
import type { GraphDataset } from "../dsl/mod.ts";
import { DatasetError, loadTasks, type ReadRoots } from "./load_tasks.ts";

async function build(out: string, seed: number): Promise<void> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/dsbench_build.py", "--out", out, "--seed", String(seed)],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

function datasetIn(dir: string): GraphDataset & ReadRoots {
  const compiled = compileFile("pipelines/dsbench.yaml");
  assert.ok(compiled.ok);
  const d: GraphDataset & ReadRoots = compiled.graph.dataset;
  const split = (name: string) => ({
    ...d.splits[name]!,
    source: join(dir, `${name}.jsonl`),
  });
  // The build is outside the spec's folder: let the runtime read it, as --allow-read <dir> would.
  return {
    ...d,
    splits: { train: split("train"), eval: split("eval") },
    read_roots: [...(d.read_roots ?? []), dir],
  };
}

Deno.test("loadTasks() reads a build in another folder with its own answers and refuses mixed builds, naming both", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  try {
    await build(a, 0);
    await build(b, 1);
    const { tasks } = await loadTasks(datasetIn(b), "eval");
    assert.ok(tasks.length > 0);
    for (const t of tasks) {
      assert.equal(t.dir, b);
      const rel = (t.row as { answers_file: string }).answers_file;
      assert.ok(!rel.startsWith("/") && !rel.includes(".."), rel);
    }
    // Seed 0's answers for one task of the seed-1 build: the run is refused before any episode.
    const rel = (tasks[0]!.row as { answers_file: string }).answers_file;
    await Deno.copyFile(join(a, rel), join(b, rel));
    const err = await loadTasks(datasetIn(b), "eval").then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof DatasetError, String(err));
    assert.match(
      err.message,
      /do not match the manifest ".*manifest\.json" \(seed 1\)/,
    );
    assert.ok(err.message.includes(join(b, rel)), err.message);
    // A missing answers file is named too.
    await Deno.remove(join(b, rel));
    await assert.rejects(
      () => loadTasks(datasetIn(b), "train"),
      /no such file/,
    );
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("loadTasks() refuses a manifest entry outside its folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "eval.jsonl"), "");
    await Deno.writeTextFile(join(dir, "train.jsonl"), "");
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({ seed: 0, files: { "../x": { sha256: "00" } } }),
    );
    await assert.rejects(
      () => loadTasks(datasetIn(dir), "eval"),
      /"\.\.\/x": not a relative path inside the folder/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
