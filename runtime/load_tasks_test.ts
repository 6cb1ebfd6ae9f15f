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

/** A dataset of one split in `dir`, confined to `dir`, whose rows name an input file in field `f`. */
async function confinedIn(dir: string, source: string): Promise<GraphDataset> {
  return {
    splits: {
      eval: {
        name: "eval",
        source,
        is_url: false,
        format: "jsonl",
        exclude_overlap_with: [],
      },
    },
    default_split: "eval",
    fields: { inputs: { q: "q" } },
    files: [{ field: "f", as: "in.txt" }],
    read_roots: [await Deno.realPath(dir)],
  } as GraphDataset & ReadRoots;
}

Deno.test("loadTasks() refuses rows and splits that lead outside the spec's folder, symlinks resolved", async () => {
  const root = await Deno.makeTempDir({ prefix: "mappa_rows_" });
  const dir = join(root, "spec");
  try {
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(root, "outside.txt"), "SECRET");
    await Deno.writeTextFile(join(dir, "ok.txt"), "fine");
    await Deno.symlink(join(root, "outside.txt"), join(dir, "link.txt"));
    const rows = [
      { q: "1", f: "ok.txt" },
      { q: "2", f: "/etc/passwd" },
      { q: "3", f: "../outside.txt" },
      { q: "4", f: "link.txt" },
      { q: "5", f: "/proc/self/environ" },
    ];
    const split = join(dir, "eval.jsonl");
    await Deno.writeTextFile(
      split,
      rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    const err = await loadTasks(await confinedIn(dir, split), "eval").then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof DatasetError, String(err));
    assert.deepEqual(
      err.problems.map((p) => /row (\d+)/.exec(p)?.[1]),
      ["2", "3", "4", "5"],
    );
    assert.match(
      err.problems[0]!,
      /cannot read input file "\/etc\/passwd": it is outside the spec's folder/,
    );
    assert.match(err.problems[2]!, /resolves to ".*outside\.txt"/);
    assert.match(err.problems[3]!, /under \/proc/);
    // Only the good row: it loads, with its path relative to the split file.
    await Deno.writeTextFile(split, JSON.stringify(rows[0]) + "\n");
    const { tasks } = await loadTasks(await confinedIn(dir, split), "eval");
    assert.deepEqual(tasks[0]!.files, [{
      from: join(dir, "ok.txt"),
      as: "in.txt",
    }]);
    // A split that is a link out of the folder is refused before it is read.
    await Deno.writeTextFile(
      join(root, "rows.jsonl"),
      JSON.stringify(rows[0]) + "\n",
    );
    await Deno.symlink(join(root, "rows.jsonl"), join(dir, "linked.jsonl"));
    await assert.rejects(
      async () =>
        loadTasks(await confinedIn(dir, join(dir, "linked.jsonl")), "eval"),
      /Cannot read dataset file ".*linked\.jsonl": it is outside the spec's folder .*resolves to/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
