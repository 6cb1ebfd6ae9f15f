import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./run_cli.ts";

// A coder writes solution.py with a hard-coded answer; a check by command reads it from /workspace.
const SPEC = `version: 1
name: coder
models:
  m: { provider: scripted, model: demo, script: replies.yaml }
tools: { python: { language: python } }
roles:
  - id: coder
    description: Writes solution.py
    model: m
    tools: [python]
    max_turns: 2
    produces: [solution.py]
    prompts: { user: "Write it: {{ task.q }}" }
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: { q: q } } }
coach:
  model: m
  rubric:
    name: code
    default_score: 9
    checks:
      - id: no_hardcoded_answer
        when: command
        script: file://checks/hardcoded.py
        roles: [coder]
        cap: 2
`;

const REPLIES = `roles:
  coder:
    - |
        \`\`\`python
        import os
        open("solution.py", "w").write("def answer():\\n    return 42\\n")
        os.symlink("SECRET_PATH", "planted")
        \`\`\`
    - |
        Saved solution.py.
`;

const HARDCODED = `import json, sys
evidence = json.load(sys.stdin)
try:
    text = open("/workspace/solution.py").read()
except OSError:
    text = ""
note = "solution.py returns a literal 42"
try:
    note += "; planted: " + open("/workspace/planted").read()
except OSError:
    pass
print(json.dumps({"fires": "return 42" in text, "note": note}))
`;

// Fires with a note no two runs of it share: equal notes mean the decision came from the cache.
const STAMP = `import json, sys, time
json.load(sys.stdin)
print(json.dumps({"fires": True, "note": str(time.time_ns())}))
`;

interface LayerVerdict {
  status: string;
  score: number | null;
  reason?: string;
  reasoning: string;
  applied: { id: string; effect: string; value: number; note?: string }[];
}

async function layer(runDir: string, name: string): Promise<LayerVerdict[]> {
  const file = [...Deno.readDirSync(join(runDir, "scores"))].find((e) =>
    e.name.startsWith(`${name}@`)
  );
  assert.ok(file, `no ${name} layer in ${runDir}/scores`);
  return (await Deno.readTextFile(join(runDir, "scores", file.name))).trim()
    .split("\n").map((l) => JSON.parse(l));
}

async function project(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_command_checks_" });
  await Deno.mkdir(join(dir, "checks"));
  await Deno.writeTextFile(join(dir, "spec.yaml"), SPEC);
  // The agent plants a link to a host file; the runtime removes it and no check ever reads through it.
  await Deno.writeTextFile(join(dir, "secret.txt"), "host secret");
  await Deno.writeTextFile(
    join(dir, "replies.yaml"),
    REPLIES.replace("SECRET_PATH", join(dir, "secret.txt")),
  );
  await Deno.writeTextFile(join(dir, "checks", "hardcoded.py"), HARDCODED);
  await Deno.writeTextFile(join(dir, "tasks.jsonl"), '{"q": "the answer"}\n');
  return dir;
}

Deno.test("command checks: the inline coach of run applies them, and rescore runs them offline from the run directory", async (t) => {
  const dir = await project();
  try {
    const run = await runCli(
      ["run", join(dir, "spec.yaml"), "--out", join(dir, "runs")],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const [name] = [...Deno.readDirSync(join(dir, "runs"))].map((e) => e.name);
    const runDir = join(dir, "runs", name!);

    await t.step(
      "inline: the check read solution.py and capped the score",
      async () => {
        const events = await Deno.readTextFile(join(runDir, "events.jsonl"));
        assert.match(
          events,
          /"path":"planted","change":"created","kind":"symlink"/,
        );
        const verdicts = await layer(runDir, "code");
        assert.equal(verdicts.length, 2);
        for (const v of verdicts) {
          assert.equal(v.status, "scored");
          assert.equal(v.score, 2);
          assert.deepEqual(v.applied, [{
            id: "no_hardcoded_answer",
            kind: "check",
            effect: "cap",
            value: 2,
            note: "solution.py returns a literal 42",
          }]);
        }
      },
    );

    const rubric = (name: string, score: number, extra = "") =>
      `name: ${name}
default_score: ${score}
checks:
  - { id: hard, when: command, script: "file://checks/hardcoded.py", cap: 1 }
  - id: stamp
    when: command
    language: python
    floor: 0
    code: |
${STAMP.split("\n").map((l) => `      ${l}`).join("\n")}
${extra}`;
    await Deno.writeTextFile(join(dir, "added.yaml"), rubric("added", 7));
    await Deno.writeTextFile(join(dir, "again.yaml"), rubric("again", 6));

    await t.step(
      "rescore --rubric runs a check added after the run",
      async () => {
        const first = await runCli(
          ["rescore", runDir, "--rubric", join(dir, "added.yaml")],
          dir,
        );
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /^added@[0-9a-f]{12}: 2 verdicts written/);
        const verdicts = await layer(runDir, "added");
        assert.deepEqual(verdicts.map((v) => v.score), [1, 1]);
        assert.deepEqual(
          verdicts.map((v) => v.applied.map((a) => `${a.id} ${a.effect}`)),
          [["hard cap", "stamp floor"], ["hard cap", "stamp floor"]],
        );
      },
    );

    await t.step(
      "a second rubric version reuses the cached decisions",
      async () => {
        const again = await runCli(
          ["rescore", runDir, "--rubric", join(dir, "again.yaml")],
          dir,
        );
        assert.equal(again.code, 0, again.stderr);
        const notes = async (name: string) =>
          (await layer(runDir, name)).map((v) =>
            v.applied.find((a) => a.id === "stamp")?.note
          );
        const first = await notes("added");
        assert.ok(first.every((n) => n !== undefined && /^\d+$/.test(n)));
        assert.deepEqual(await notes("again"), first);
      },
    );

    await t.step(
      "a check that crashes leaves every action unscored and the rescore fails",
      async () => {
        await Deno.writeTextFile(
          join(dir, "broken.yaml"),
          `name: broken
default_score: 9
checks:
  - { id: broken, when: command, language: python, code: "raise SystemExit(2)", cap: 0 }
`,
        );
        const broken = await runCli(
          ["rescore", runDir, "--rubric", join(dir, "broken.yaml")],
          dir,
        );
        assert.equal(broken.code, 1);
        assert.match(broken.stdout, /2 unscored/);
        assert.match(broken.stderr, /a command check could not decide/);
        for (const v of await layer(runDir, "broken")) {
          assert.equal(v.status, "unscored");
          assert.equal(v.score, null);
          assert.equal(v.reason, "check_failed");
          assert.match(
            v.reasoning,
            /check "broken" could not decide \(crashed\): its program exited with status 2/,
          );
        }
      },
    );

    await t.step(
      "a rubric file with a command check without a program is refused",
      async () => {
        await Deno.writeTextFile(
          join(dir, "empty.yaml"),
          "name: empty\ndefault_score: 9\nchecks: [{ id: nothing, when: command, cap: 0 }]\n",
        );
        const empty = await runCli(
          ["rescore", runDir, "--rubric", join(dir, "empty.yaml")],
          dir,
        );
        assert.equal(empty.code, 1);
        assert.match(
          empty.stderr,
          /error\[missing_key\]: Check "nothing" is a command check but has no program/,
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
