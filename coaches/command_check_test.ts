import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { GraphRubric } from "../dsl/mod.ts";
import type { ExecRequest, Sandbox } from "../runtime/ports.ts";
import { ScriptedModelClient } from "../runtime/llm/scripted_client.ts";
import { BwrapSandbox } from "../runtime/sandbox/bwrap_sandbox.ts";
import { CheckCache } from "./check_cache.ts";
import { restoreWorkspace } from "../runtime/mod.ts";
import { scoreAction } from "./rescore.ts";
import {
  fixtureExecution,
  FixtureRun,
} from "../tests/fixtures/run_log_fixture.ts";

const jail = await BwrapSandbox.create();

/** The real jail, counting the programs it ran. */
function counted(): Sandbox & { runs: number } {
  const s = {
    backend: jail.backend,
    runs: 0,
    exec(request: ExecRequest) {
      s.runs++;
      return jail.exec(request);
    },
  };
  return s;
}

function rubric(checks: GraphRubric["checks"]): GraphRubric {
  return {
    name: "custom",
    hash: "c0ffee000000",
    file: "r.yaml",
    scale: { min: 0, max: 10 },
    default_score: 8,
    checks,
    caps: [],
  };
}

function python(id: string, code: string, extra = {}) {
  return {
    id,
    when: "command" as const,
    code,
    language: "python" as const,
    cap: 2,
    ...extra,
  };
}

const SOLUTION = "def answer():\n    return 42\n";

/** A run directory whose data engineer wrote solution.py (its content in blobs/), plus its log and key. */
async function runWithSolution(text = SOLUTION) {
  const dir = await Deno.makeTempDir({ prefix: "mappa-check-run-" });
  const sha = createHash("sha256").update(text).digest("hex");
  await Deno.mkdir(join(dir, "blobs", sha.slice(0, 2)), { recursive: true });
  await Deno.writeTextFile(join(dir, "blobs", sha.slice(0, 2), sha), text);
  const run = new FixtureRun();
  run.started();
  const key = run.action("data_engineer", {
    reply: "Saved solution.py",
    executions: [fixtureExecution({
      files: [
        {
          path: "solution.py",
          change: "created",
          kind: "file",
          size: text.length,
          sha256: sha,
        },
        // The runtime removes a planted link and records it so: never restored for a check.
        {
          path: "planted",
          change: "created",
          kind: "symlink",
          rejected: "symlink removed",
        },
      ],
    })],
  });
  return {
    dir,
    log: run.log,
    key,
    sha,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const READS_SOLUTION = `import json, sys
evidence = json.load(sys.stdin)
text = open("/workspace/solution.py").read()
hard = "return 42" in text
print(json.dumps({"fires": hard, "note": "hard-coded answer in " + ",".join(evidence["files"]["produced"])}))
`;

Deno.test("a command check that fires caps the score and records its note; one that does not leaves it", async () => {
  await using run = await runWithSolution();
  const sandbox = counted();
  const opts = { judge: undefined!, runDir: run.dir, sandbox };
  const fired = await scoreAction(
    run.log,
    run.key,
    rubric([python("hardcoded", READS_SOLUTION)]),
    opts,
  );
  assert.equal(fired.status, "scored");
  assert.equal(fired.raw_score, 8);
  assert.equal(fired.score, 2);
  assert.deepEqual(fired.applied, [{
    id: "hardcoded",
    kind: "check",
    effect: "cap",
    value: 2,
    note: "hard-coded answer in solution.py",
  }]);
  await using honest = await runWithSolution("def answer():\n    return 6*7\n");
  const kept = await scoreAction(
    honest.log,
    honest.key,
    rubric([python("hardcoded", READS_SOLUTION)]),
    { ...opts, runDir: honest.dir },
  );
  assert.equal(kept.status, "scored");
  assert.equal(kept.score, 8);
  assert.deepEqual(kept.applied, []);
});

Deno.test("a command check that cannot decide leaves the action unscored, naming the check", async (t) => {
  await using run = await runWithSolution();
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ["crash", "raise SystemExit(3)", {}, /\(crashed\)/],
    ["slow", "while True: pass", { timeout_s: 1 }, /\(timed_out\)/],
    ["garbage", "print('fires: yes')", {}, /\(invalid_json\)/],
    ["shape", 'print(\'{"fires": "yes"}\')', {}, /\(invalid_output\)/],
    ["extra", 'print(\'{"fires": true, "cap": 0}\')', {}, /\(invalid_output\)/],
  ];
  for (const [id, code, extra, failure] of cases) {
    await t.step(id, async () => {
      const verdict = await scoreAction(
        run.log,
        run.key,
        rubric([python(id, code, extra)]),
        { judge: undefined!, runDir: run.dir, sandbox: jail },
      );
      assert.equal(verdict.status, "unscored");
      assert.equal(verdict.reason, "check_failed");
      assert.equal(verdict.score, null);
      assert.deepEqual(verdict.applied, []);
      assert.match(
        verdict.reasoning,
        new RegExp(`check "${id}" could not decide`),
      );
      assert.match(verdict.reasoning, failure);
    });
  }
  await t.step("no sandbox", async () => {
    const verdict = await scoreAction(
      run.log,
      run.key,
      rubric([python("nojail", "print('{\"fires\": false}')")]),
      { judge: undefined!, runDir: run.dir },
    );
    assert.equal(verdict.reason, "check_failed");
    assert.match(verdict.reasoning, /no sandbox/);
  });
});

/** Finds the secret in any process's environment it can read, its own, or the planted link. */
const SNOOP = `import glob, json, os, sys
json.load(sys.stdin)
seen = []
for path in glob.glob("/proc/[0-9]*/environ") + ["/proc/self/environ", "/workspace/planted"]:
    try:
        with open(path, "rb") as f:
            if b"s3cret-value" in f.read():
                seen.append(path)
    except OSError:
        pass
if "MAPPA_CHECK_SECRET" in os.environ:
    seen.append("os.environ")
print(json.dumps({"fires": bool(seen), "note": ",".join(seen)}))
`;

Deno.test("a check program sees neither the host's environment nor a link the agent planted", async () => {
  await using run = await runWithSolution();
  Deno.env.set("MAPPA_CHECK_SECRET", "s3cret-value");
  // A host process holding the secret in its environment from its start, as /proc shows it.
  const holder = new Deno.Command("sleep", {
    args: ["60"],
    env: { MAPPA_CHECK_SECRET: "s3cret-value" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const code = SNOOP;
  try {
    const verdict = await scoreAction(
      run.log,
      run.key,
      rubric([python("leak", code)]),
      { judge: undefined!, runDir: run.dir, sandbox: jail },
    );
    assert.equal(verdict.status, "scored", verdict.reasoning);
    assert.deepEqual(verdict.applied, []);
    assert.equal(verdict.score, 8);
  } finally {
    Deno.env.delete("MAPPA_CHECK_SECRET");
    holder.kill();
    await holder.status;
  }
});

Deno.test("a blob that is a link (a tampered run) is not followed: the check cannot decide", async () => {
  await using run = await runWithSolution();
  const blob = join(run.dir, "blobs", run.sha.slice(0, 2), run.sha);
  const secret = join(run.dir, "secret.txt");
  await Deno.writeTextFile(secret, "host secret");
  await Deno.remove(blob);
  await Deno.symlink(secret, blob);
  const verdict = await scoreAction(
    run.log,
    run.key,
    rubric([python("reads", READS_SOLUTION)]),
    { judge: undefined!, runDir: run.dir, sandbox: jail },
  );
  assert.equal(verdict.reason, "check_failed");
  assert.match(
    verdict.reasoning,
    /solution\.py \(blob [0-9a-f]{12}… is not in blobs\/\)/,
  );
});

Deno.test("command checks run only for their roles, and their decisions are cached", async () => {
  await using run = await runWithSolution();
  const cacheDir = await Deno.makeTempDir();
  try {
    const sandbox = counted();
    const opts = {
      judge: undefined!,
      runDir: run.dir,
      sandbox,
      checkCache: new CheckCache({ dir: cacheDir }),
    };
    const other = await scoreAction(
      run.log,
      run.key,
      rubric([python("other", "raise SystemExit(1)", { roles: ["modeler"] })]),
      opts,
    );
    assert.equal(other.score, 8);
    assert.equal(sandbox.runs, 0);
    const checks = rubric([python("hardcoded", READS_SOLUTION)]);
    const first = await scoreAction(run.log, run.key, checks, opts);
    const again = await scoreAction(run.log, run.key, checks, opts);
    assert.equal(sandbox.runs, 1);
    assert.deepEqual(again.applied, first.applied);
    assert.equal(again.score, 2);
    const changed = rubric([
      python("hardcoded", READS_SOLUTION + "# v2\n"),
    ]);
    await scoreAction(run.log, run.key, changed, opts);
    assert.equal(sandbox.runs, 2);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("with an LLM judge, command checks run after a scored verdict only, and a failure keeps the judge's record", async () => {
  await using run = await runWithSolution();
  const judged = (reply: string) => ({
    judge: {
      temperature: 0,
      seed: 0,
      max_retries: 0,
      structured_output: true,
    },
    model: "judge",
    client: new ScriptedModelClient({
      after_last: "repeat_last",
      roles: { data_engineer: [reply] },
      tasks: {},
    }),
    runDir: run.dir,
  });
  const template = { template: "Score {{ role.name }}: {{ action.output }}" };
  const seven = '{"reasoning": "Looks fine.", "score": 7, "blame": null}';
  const capped = await scoreAction(
    run.log,
    run.key,
    { ...rubric([python("hardcoded", READS_SOLUTION)]), ...template },
    { ...judged(seven), sandbox: jail },
  );
  assert.equal(capped.judge.kind, "llm");
  assert.equal(capped.raw_score, 7);
  assert.equal(capped.score, 2);
  assert.equal(capped.applied[0]?.note, "hard-coded answer in solution.py");
  const crashed = await scoreAction(
    run.log,
    run.key,
    { ...rubric([python("crash", "raise SystemExit(1)")]), ...template },
    { ...judged(seven), sandbox: jail },
  );
  assert.equal(crashed.status, "unscored");
  assert.equal(crashed.reason, "check_failed");
  assert.equal(crashed.raw_score, 7);
  assert.equal(crashed.judge.kind, "llm");
  assert.match(crashed.reasoning, /^Unscored: check "crash" could not decide/);
  assert.match(crashed.reasoning, /The judge said: Looks fine\.$/);
  const sandbox = counted();
  const unread = await scoreAction(
    run.log,
    run.key,
    { ...rubric([python("hardcoded", READS_SOLUTION)]), ...template },
    { ...judged("no score here"), sandbox },
  );
  assert.equal(unread.status, "unscored");
  assert.equal(unread.reason, "verdict_parse_failure");
  assert.equal(sandbox.runs, 0);
});

Deno.test("restoreWorkspace() writes only inside its folder", async () => {
  await using run = await runWithSolution();
  const into = await Deno.makeTempDir();
  try {
    const outside = join(run.dir, "escaped.py");
    const restored = await restoreWorkspace(
      run.dir,
      new Map([
        ["../escaped.py", run.sha],
        ["/abs.py", run.sha],
        ["sub/ok.py", run.sha],
        ["bad.py", "not-a-sha"],
      ]),
      into,
    );
    assert.equal(restored.restored, 1);
    assert.deepEqual(restored.skipped, [
      "../escaped.py (not a workspace path)",
      "/abs.py (not a workspace path)",
      "bad.py (not a workspace path)",
    ]);
    assert.equal(await Deno.readTextFile(join(into, "sub/ok.py")), SOLUTION);
    await assert.rejects(() => Deno.lstat(outside), Deno.errors.NotFound);
    await assert.rejects(() => Deno.lstat("/abs.py"), Deno.errors.NotFound);
    assert.ok((await Deno.lstat(join(into, "sub/ok.py"))).isFile);
  } finally {
    await Deno.remove(into, { recursive: true });
  }
});

Deno.test("a TypeScript check program reads the evidence and the workspace in the jail", async () => {
  await using run = await runWithSolution();
  const code = `const evidence = await new Response(Deno.stdin.readable).json();
const text = await Deno.readTextFile("/workspace/solution.py");
console.log(JSON.stringify({
  fires: evidence.role.id === "data_engineer" && text.includes("return 42"),
  note: "ts saw " + evidence.files.produced.join(","),
}));
`;
  const verdict = await scoreAction(
    run.log,
    run.key,
    rubric([{ ...python("ts", code), language: "typescript" as const }]),
    { judge: undefined!, runDir: run.dir, sandbox: jail },
  );
  assert.equal(verdict.status, "scored", verdict.reasoning);
  assert.equal(verdict.score, 2);
  assert.equal(verdict.applied[0]?.note, "ts saw solution.py");
});
