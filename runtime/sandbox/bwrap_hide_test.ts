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
