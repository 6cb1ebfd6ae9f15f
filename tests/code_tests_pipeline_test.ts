import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile, type ExecutionGraph } from "../dsl/mod.ts";
import {
  BwrapSandbox,
  type EpisodeFinishedEvent,
  type Task,
} from "../runtime/mod.ts";
import { gradeEpisode } from "../runtime/graders/grade_episode.ts";
import { runCli as cli } from "./run_cli.ts";

// pipelines/code_tests.yaml end to end through the CLI (demo policy, real sandbox), and its command
// grader against hostile solutions: none of them may pass a hidden test it does not solve.

Deno.test("run pipelines/code_tests.yaml grades each solution by its hidden tests, offline", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_code_tests_" });
  try {
    const r = await cli(["run", "pipelines/code_tests.yaml", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DEMO POLICY/);
    assert.match(r.stdout, /episodes: 8 completed, 0 failed of 8/);
    assert.match(r.stdout, /success: 6\/8 graded episodes/);
    assert.match(r.stdout, /lists: 2\/3 \(66\.7%\); means: pass_rate 0\.8/);
    const [dir] = [...Deno.readDirSync(out)].map((e) => e.name);
    const finished = (await Deno.readTextFile(join(out, dir!, "events.jsonl")))
      .split("\n").filter((l) => l.includes('"episode_finished"'))
      .map((l) => JSON.parse(l) as EpisodeFinishedEvent);
    const by = Object.fromEntries(
      finished.map((e) => [e.episode_id, e.outcome!]),
    );
    assert.deepEqual(by["eval:second_largest"]!.metrics, {
      pass_rate: 0.4,
      tests_passed: 2,
      tests_total: 5,
    });
    assert.deepEqual(
      [by["eval:gcd_list"]!.valid, by["eval:gcd_list"]!.reason],
      [false, "no solution.py in the workspace"],
    );
    assert.ok(finished.every((e) => e.outcome?.ungraded === undefined));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

const compiled = compileFile("pipelines/code_tests.yaml", {
  env: () => undefined,
});
assert.ok(compiled.ok);
const graph: ExecutionGraph = compiled.graph;
const sandbox = await BwrapSandbox.create();

/** A task whose expected values cannot be computed from its inputs: only a leak passes it. */
const SECRET = `SECRET_${crypto.randomUUID().replaceAll("-", "")}`;
const task: Task = {
  id: "secret",
  index: 0,
  split: "eval",
  category: null,
  inputs: { function: "secret", spec: "secret(i)", example: "" },
  answer: {
    function: "secret",
    tests: [0, 1, 2].map((i) => ({ args: [i], expected: `${SECRET}_${i}` })),
  },
  files: [],
  row: {},
};

async function grade(files: Record<string, string>) {
  const parent = await Deno.makeTempDir({ prefix: "mappa-attack-" });
  await Deno.chmod(parent, 0o755);
  try {
    for (const [name, text] of Object.entries(files)) {
      if (name.endsWith("@link")) {
        await Deno.symlink(text, join(parent, name.slice(0, -5)));
      } else await Deno.writeTextFile(join(parent, name), text);
    }
    return await gradeEpisode(
      { graph, task, outputs: { coder: {} }, workspace: parent },
      { sandbox, withSlot: (fn) => fn(87) },
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

const FAKE = JSON.stringify({
  metrics: { pass_rate: 1, tests_passed: 3, tests_total: 3 },
  valid: true,
});

// Searches everything the solution can reach for the secret: other processes' memory, descriptors,
// environment and command lines, /tmp, /workspace, /run.
const HUNT = `
import os, re
def _hunt():
    pat = re.compile(rb"SECRET_[0-9a-f]{32}_\\d")
    found = set()
    def scan(data):
        found.update(m.group().decode() for m in pat.finditer(data))
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for name in ("cmdline", "environ"):
            try: scan(open(f"/proc/{pid}/{name}", "rb").read())
            except OSError: pass
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    f = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
                    scan(os.read(f, 1 << 20)); os.close(f)
                except OSError: pass
        except OSError: pass
        try:
            mem = open(f"/proc/{pid}/mem", "rb")
            for line in open(f"/proc/{pid}/maps"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                if "r" not in line.split()[1] or hi - lo > 64 << 20: continue
                try: mem.seek(lo); scan(mem.read(hi - lo))
                except (OSError, ValueError, OverflowError): pass
        except OSError: pass
    for root in ("/tmp", "/workspace", "/run", "/dev/shm"):
        for d, _, fs in os.walk(root):
            for f in fs:
                try: scan(open(os.path.join(d, f), "rb").read(1 << 20))
                except OSError: pass
    return sorted(found)
FOUND = _hunt()
def secret(i):
    for s in FOUND:
        if s.endswith("_" + str(i)): return s
    return "not found"
`;

Deno.test("the code_tests grader passes no hostile solution", async (t) => {
  await t.step("a right answer passes (the harness works)", async () => {
    const o = await grade({
      "solution.py": `def secret(i):\n    return ${
        JSON.stringify(SECRET)
      } + "_" + str(i)\n`,
    });
    assert.deepEqual([o?.success, o?.metrics.tests_passed], [true, 3]);
  });
  await t.step("a solution that prints fake metrics JSON", async () => {
    const o = await grade({
      "solution.py": `import sys\nprint(${JSON.stringify(FAKE)})\nprint(${
        JSON.stringify(FAKE)
      }, file=sys.stderr)\ndef secret(i):\n    print(${
        JSON.stringify(FAKE)
      })\n    return "x"\n`,
    });
    assert.equal(o?.ungraded, undefined, o?.reason);
    assert.deepEqual([o?.success, o?.metrics.tests_passed], [false, 0]);
  });
  await t.step("a solution that calls os._exit(0) at import", async () => {
    const o = await grade({
      "solution.py": `import os\nprint(${JSON.stringify(FAKE)})\nos._exit(0)\n`,
    });
    assert.equal(o?.ungraded, undefined, o?.reason);
    assert.deepEqual([o?.success, o?.metrics.tests_passed], [false, 0]);
  });
  await t.step("a solution that hunts for the expected answer", async () => {
    const o = await grade({ "solution.py": HUNT });
    assert.equal(o?.ungraded, undefined, o?.reason);
    assert.deepEqual([o?.success, o?.metrics.tests_passed], [false, 0]);
  });
  await t.step(
    "planted sitecustomize.py, usercustomize.py and json.py",
    async () => {
      const planted = `print(${
        JSON.stringify(FAKE)
      })\nimport os\nos._exit(0)\n`;
      const o = await grade({
        "sitecustomize.py": planted,
        "usercustomize.py": planted,
        "json.py": planted,
        "importlib.py": planted,
        "solution.py": `def secret(i):\n    return "x"\n`,
      });
      assert.equal(o?.ungraded, undefined, o?.reason);
      assert.deepEqual([o?.success, o?.metrics.tests_passed], [false, 0]);
    },
  );
  await t.step("solution.py as a symlink", async () => {
    const o = await grade({ "solution.py@link": "/etc/passwd" });
    assert.deepEqual([o?.success, o?.valid, o?.reason], [
      false,
      false,
      "no solution.py in the workspace",
    ]);
  });
  await t.step(
    "a solution that tries to kill its grader (to be ungraded, not failed)",
    async () => {
      const o = await grade({
        "solution.py": [
          "import os, signal",
          "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:",
          "    if pid != os.getpid():",
          "        try: os.kill(pid, signal.SIGKILL)",
          "        except OSError: pass",
          "try: os.kill(-1, signal.SIGKILL)",
          "except OSError: pass",
          "def secret(i):",
          "    return 'x'",
        ].join("\n"),
      });
      assert.equal(o?.ungraded, undefined, o?.reason);
      assert.deepEqual([o?.success, o?.metrics.tests_passed], [false, 0]);
    },
  );
});
