// Hidden host paths (issue 12, part 2): the datasets Python packages ship are out of the jail's view by
// default, so agent code cannot rebuild a task set made from them; the packages themselves still import.
import assert from "node:assert/strict";
import { BwrapSandbox } from "./bwrap_sandbox.ts";
import { pythonDataPaths } from "./_data_paths.ts";
import { lastJson, SMALL_LIMITS, tempWorkspace } from "./_test_support.ts";

// Slots 40-49 belong to this file.
const SLOT = 40;
const LIMITS = { ...SMALL_LIMITS, memory_mb: 2048, wall_ms: 60_000, cpu_s: 60 };

const PROBE = `
import json
def attempt(f):
    try:
        f()
        return "loaded"
    except Exception as e:
        return type(e).__name__
import sklearn.datasets as skd, statsmodels.api as sm
out = {
  "iris": attempt(lambda: skd.load_iris()),
  "wine": attempt(lambda: skd.load_wine()),
  "digits": attempt(lambda: skd.load_digits()),
  "diabetes": attempt(lambda: skd.load_diabetes()),
  "fair": attempt(lambda: sm.datasets.fair.load_pandas()),
  "anes96": attempt(lambda: sm.datasets.anes96.load_pandas()),
  "fit": attempt(lambda: __import__("sklearn.linear_model").linear_model.LinearRegression().fit([[0], [1]], [0, 1])),
}
print(json.dumps(out))
`;

async function probe(sandbox: BwrapSandbox): Promise<Record<string, unknown>> {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "python",
    code: PROBE,
    workspace: ws.dir,
    limits: LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "ok", r.stderr.text);
  return lastJson(r.stdout.text);
}

Deno.test("pythonDataPaths() finds the data of scikit-learn and statsmodels, never their modules", () => {
  const paths = pythonDataPaths();
  assert.ok(paths.some((p) => p.endsWith("/sklearn/datasets/data")), "sklearn");
  assert.ok(
    paths.some((p) => /\/statsmodels\/datasets\/fair\/fair\.csv$/.test(p)),
  );
  assert.ok(paths.every((p) => !p.endsWith(".py")));
});

Deno.test("jail: packaged datasets are hidden by default; the packages still import and fit", async () => {
  const out = await probe(await BwrapSandbox.create({ tmpMb: 8, shmMb: 4 }));
  for (const name of ["iris", "wine", "digits", "diabetes", "fair", "anes96"]) {
    assert.notEqual(out[name], "loaded", `${name} is readable in the jail`);
  }
  assert.equal(out.fit, "loaded");
});

Deno.test("jail: hidePaths [] shows the packaged datasets again", async () => {
  const out = await probe(
    await BwrapSandbox.create({ tmpMb: 8, shmMb: 4, hidePaths: [] }),
  );
  assert.equal(out.iris, "loaded");
  assert.equal(out.fair, "loaded");
});

Deno.test("jail: a request's hide_paths hide a folder of the workspace and a host folder for that execution only", async () => {
  const sandbox = await BwrapSandbox.create({
    tmpMb: 8,
    shmMb: 4,
    hidePaths: [],
  });
  await using ws = await tempWorkspace();
  await Deno.mkdir(`${ws.dir}/answers`);
  await Deno.writeTextFile(`${ws.dir}/answers/test.csv`, "id,y\n1,HIDDEN\n");
  await Deno.writeTextFile(`${ws.dir}/notes.txt`, "NOTE");
  const sklearnData = pythonDataPaths().find((p) =>
    p.endsWith("/sklearn/datasets/data")
  )!;
  const code = `
import json, os
def ls(p):
    try:
        return sorted(os.listdir(p))
    except OSError as e:
        return type(e).__name__
def cat(p):
    try:
        return open(p).read()
    except OSError as e:
        return type(e).__name__
print(json.dumps({"answers": ls("/workspace/answers"), "csv": cat("/workspace/answers/test.csv"),
                  "notes": cat("/workspace/notes.txt"),
                  "sk": len(ls(${JSON.stringify(sklearnData)}))}))
`;
  const run = (hide_paths?: string[]) =>
    sandbox.exec({
      language: "python",
      code,
      workspace: ws.dir,
      limits: SMALL_LIMITS,
      slot: SLOT,
      ...(hide_paths === undefined ? {} : { hide_paths }),
    });
  const hidden = await run([`${ws.dir}/answers`, sklearnData]);
  assert.equal(hidden.status, "ok", hidden.stderr.text);
  const inside = lastJson(hidden.stdout.text);
  assert.deepEqual(inside.answers, []);
  assert.equal(inside.csv, "FileNotFoundError");
  assert.equal(inside.notes, "NOTE");
  assert.equal(inside.sk, 0);
  // A hidden file is /dev/null bound without device access: it cannot be opened.
  const file = await run([`${ws.dir}/notes.txt`]);
  assert.equal(lastJson(file.stdout.text).notes, "PermissionError");
  // The next request without hide_paths sees everything again, and the host copy is untouched.
  const shown = await run();
  assert.equal(shown.status, "ok", shown.stderr.text);
  const visible = lastJson(shown.stdout.text);
  assert.deepEqual(visible.answers, ["test.csv"]);
  assert.equal(visible.csv, "id,y\n1,HIDDEN\n");
  assert.ok((visible.sk as number) > 0);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/answers/test.csv`),
    "id,y\n1,HIDDEN\n",
  );
});

Deno.test("jail: hide_paths must be absolute host paths", async () => {
  const sandbox = await BwrapSandbox.create({
    tmpMb: 8,
    shmMb: 4,
    hidePaths: [],
  });
  await using ws = await tempWorkspace();
  for (const bad of ["answers", "/usr/../etc/passwd"]) {
    await assert.rejects(
      sandbox.exec({
        language: "python",
        code: "print(1)",
        workspace: ws.dir,
        limits: SMALL_LIMITS,
        slot: SLOT,
        hide_paths: [bad],
      }),
      /^TypeError: Cannot hide ".*" in the jail: hide_paths must be absolute host paths/,
    );
  }
});
