// Tests tools/dsbench_build.py: byte-identical rebuilds, the task mix, file consistency and a baseline.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./dsbench_build.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

async function build(out: string, baseline = false): Promise<string> {
  const args = [SCRIPT, "--out", out, "--seed", "0"];
  if (baseline) args.push("--baseline");
  const r = await new Deno.Command(PYTHON, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const err = new TextDecoder().decode(r.stderr);
  assert(r.success, `builder failed: ${err}`);
  return new TextDecoder().decode(r.stdout);
}

async function files(root: string, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(root, dir))) {
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await files(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

function csv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trimEnd().split("\n");
  // Only the first columns are needed here; no quoted commas occur in id columns.
  return {
    header: lines[0]!.split(","),
    rows: lines.slice(1).map((l) => l.split(",")),
  };
}

type Row = {
  task_id: string;
  task_type: string;
  metric: string;
  target_column: string;
  id_column: string;
  answers_file: string;
  baseline_prediction: string;
  baseline_score: number;
  description: string;
};

const readRows = async (path: string): Promise<Row[]> =>
  (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) =>
    JSON.parse(l) as Row
  );

Deno.test("dsbench builder: deterministic, well-formed tasks with a sane baseline", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  try {
    await build(a);
    const scores = JSON.parse(await build(b, true)) as Record<
      string,
      { metric: string; score: number; constant: number }
    >;

    const fa = await files(a), fb = await files(b);
    assert.deepStrictEqual(fa, fb);
    for (const f of fa) {
      assert.deepStrictEqual(
        await Deno.readFile(join(a, f)),
        await Deno.readFile(join(b, f)),
        `${f} differs between builds`,
      );
    }

    const train = await readRows(join(a, "train.jsonl"));
    const evals = await readRows(join(a, "eval.jsonl"));
    const all = [...train, ...evals];
    assert(all.length >= 12, `only ${all.length} tasks`);
    assert.deepStrictEqual(new Set(all.map((r) => r.task_id)).size, all.length);
    const types = new Set(all.map((r) => r.task_type));
    for (
      const t of [
        "binary_classification",
        "multiclass_classification",
        "regression",
      ]
    ) {
      assert(types.has(t), `no ${t} task`);
      const n = all.filter((r) => r.task_type === t).length;
      const e = evals.filter((r) => r.task_type === t).length;
      assert(e >= 1 && e <= Math.ceil(n / 2), `eval has ${e} of ${n} ${t}`);
    }
    assert(all.some((r) => r.description.includes("imbalanced")));

    let stringMulti = false, withMissing = false, withCategorical = false;
    for (const r of all) {
      const dir = join(a, "tasks", r.task_id);
      // Relative to the .jsonl file, so a build in any folder is graded against its own answers.
      assert.deepStrictEqual(
        r.answers_file,
        `tasks/${r.task_id}/answers.csv`,
      );
      assert.equal(typeof r.baseline_prediction, "string");
      assert(Number.isFinite(r.baseline_score), `${r.task_id}: no baseline`);
      assert.deepStrictEqual(r.id_column, "id");
      assert(r.description.includes(r.metric), `${r.task_id}: no metric`);
      assert(r.description.includes("submission.csv"));
      const tr = await Deno.readTextFile(join(dir, "train.csv"));
      const te = csv(await Deno.readTextFile(join(dir, "test.csv")));
      const ans = csv(await Deno.readTextFile(join(dir, "answers.csv")));
      const sub = csv(
        await Deno.readTextFile(join(dir, "sample_submission.csv")),
      );
      assert.deepStrictEqual(ans.header, ["id", r.target_column]);
      assert.deepStrictEqual(sub.header, ans.header);
      assert.deepStrictEqual(te.header[0], "id");
      assert(!te.header.includes(r.target_column), `${r.task_id}: leak`);
      const testIds = te.rows.map((x) => x[0]);
      assert.deepStrictEqual(ans.rows.map((x) => x[0]), testIds);
      assert.deepStrictEqual(sub.rows.map((x) => x[0]), testIds);
      assert.deepStrictEqual(new Set(testIds).size, testIds.length);
      const trainHead = tr.slice(0, tr.indexOf("\n")).split(",");
      assert.deepStrictEqual(trainHead[0], "id");
      assert(trainHead.includes(r.target_column));
      const labels = new Set(ans.rows.map((x) => x[1]!));
      if (r.task_type === "multiclass_classification") {
        assert(labels.size > 2, `${r.task_id}: ${labels.size} classes`);
        if ([...labels].every((l) => /^[a-z_]+$/.test(l))) stringMulti = true;
      }
      if (r.task_type === "binary_classification") {
        assert.deepStrictEqual(labels.size, 2, r.task_id);
      }
      if (r.task_type === "regression") {
        assert(labels.size > 20, `${r.task_id}: only ${labels.size} values`);
        assert([...labels].every((l) => Number.isFinite(Number(l))));
      }
      if (/,,|,\n/.test(tr)) withMissing = true;
      if (/Categorical features: `/.test(r.description)) withCategorical = true;
    }
    const manifest = JSON.parse(
      await Deno.readTextFile(join(a, "manifest.json")),
    ) as { seed: number; files: Record<string, { sha256: string }> };
    assert.equal(manifest.seed, 0);
    assert.deepStrictEqual(
      Object.keys(manifest.files).sort(),
      ["eval.jsonl", "train.jsonl", ...all.map((r) => r.answers_file)].sort(),
    );
    // No loader names in task text; tasks from one source split its rows; no target as another's feature.
    for (const r of all) {
      assert.doesNotMatch(r.description, /load_|scikit-learn|statsmodels/);
    }
    const rowsOf = async (id: string) =>
      (await Deno.readTextFile(join(a, "tasks", id, "train.csv"))).trim()
        .split("\n").length -
      1 +
      (await Deno.readTextFile(join(a, "tasks", id, "test.csv"))).trim()
        .split("\n").length -
      1;
    for (
      const [x, y, n] of [
        ["wine_cultivar", "wine_alcohol", 178],
        ["digits_name", "digits_rare_seven", 1797],
        ["anes96_vote", "anes96_party", 944],
      ] as const
    ) {
      assert.equal(await rowsOf(x) + await rowsOf(y), n, `${x} + ${y}`);
    }
    const party = await Deno.readTextFile(
      join(a, "tasks", "anes96_party", "train.csv"),
    );
    assert(!party.slice(0, party.indexOf("\n")).split(",").includes("vote"));
    assert(stringMulti, "no multi-class task with string labels");
    assert(withMissing, "no task with missing values");
    assert(withCategorical, "no task with categorical columns");

    const lower = new Set(["rmse", "rmsle", "mae", "medae", "log_loss"]);
    assert.deepStrictEqual(
      Object.keys(scores).sort(),
      evals.map((r) => r.task_id).sort(),
    );
    for (const r of evals) {
      const s = scores[r.task_id]!;
      assert.deepStrictEqual(s.metric, r.metric);
      assert(
        lower.has(s.metric) ? s.score < s.constant : s.score > s.constant,
        `${r.task_id}: baseline ${s.metric} ${s.score} vs constant ${s.constant}`,
      );
      if (["accuracy", "roc_auc", "f1", "f1_macro"].includes(s.metric)) {
        assert(s.score >= 0.6, `${r.task_id}: ${s.metric} ${s.score}`);
      }
    }
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
