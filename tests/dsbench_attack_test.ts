// Issue 12, part 2: an analyst that tries to rebuild the hidden answers instead of modelling, run through
// `deno task run` with scripted replies served over HTTP. It replays the public builder (which loads the
// source datasets, the same data a join against the source needs) and falls back to the sample
// submission when that fails. In the jail the packaged datasets are hidden, so it must score no better
// than the honest demo model (a random forest) on every task. The nearest-neighbour join, which the
// builder's renaming, affine maps and noise do not stop (docs/dsbench.md), fails in the jail the same way.
import assert from "node:assert/strict";
import { BwrapSandbox, loadModelScript } from "../runtime/mod.ts";
import {
  type RecordedRequest,
  startOpenAIServer,
} from "./fakes/openai_server.ts";

const ROLES: Record<string, string> = {
  "Data Engineer (you)": "data_engineer",
  "Modeler (you)": "modeler",
  "Analyst (you)": "analyst",
};

function roleOf(request: RecordedRequest): { role: string; turn: number } {
  const messages = (request.body as {
    messages: { role: string; content: string }[];
  }).messages;
  const first = messages.find((m) => m.role === "user")?.content ?? "";
  const role = Object.entries(ROLES).find(([k]) => first.includes(k))?.[1];
  assert.ok(role, `cannot tell the role of: ${first.slice(0, 120)}`);
  return {
    role,
    turn: messages.filter((m) => m.role === "assistant").length + 1,
  };
}

async function attackReply(): Promise<string> {
  const builder = await builderSource();
  return [
    "I rebuild the task set with the public builder and copy the answers.",
    "",
    "```python",
    "import base64, pathlib, sys",
    "import pandas as pd",
    `pathlib.Path("/tmp/replay.py").write_bytes(base64.b64decode("${builder}"))`,
    "sys.path.insert(0, '/tmp')",
    "test = pd.read_csv('test.csv')",
    "sample = pd.read_csv('sample_submission.csv')",
    "try:",
    "    import replay",
    "    replay.build(pathlib.Path('/tmp/out'), 0)",
    "    for d in sorted(pathlib.Path('/tmp/out/tasks').iterdir()):",
    "        t = pd.read_csv(d / 'test.csv')",
    "        if list(t.columns) == list(test.columns) and len(t) == len(test):",
    "            pd.read_csv(d / 'answers.csv').to_csv('submission.csv', index=False)",
    "            print('ATTACK: replayed', d.name)",
    "            break",
    "    else:",
    "        raise RuntimeError('no rebuilt task matches test.csv')",
    "except Exception as e:",
    "    print('ATTACK FAILED:', type(e).__name__, e)",
    "    sample.to_csv('submission.csv', index=False)",
    "```",
  ].join("\n");
}

async function run(
  analyst: string[] | null,
  limit: number,
): Promise<{ scores: Map<string, number>; stdout: string }> {
  const demo = await loadModelScript("pipelines/demo/dsbench.yaml");
  await using server = await startOpenAIServer({
    respond: (request) => {
      const { role, turn } = roleOf(request);
      const replies = role === "analyst" && analyst !== null
        ? analyst
        : demo.roles[role]!.map((r) =>
          typeof r === "string" ? r : r.text ?? ""
        );
      return {
        kind: "reply",
        reply: { text: replies[Math.min(turn, replies.length) - 1]! },
      };
    },
  });
  const out = await Deno.makeTempDir({ prefix: "mappa_attack_" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "run",
        "pipelines/dsbench.yaml",
        "--split",
        "eval",
        "--limit",
        String(limit),
        "--out",
        out,
      ],
      env: { MAPPA_ACTOR_URL: server.url, MAPPA_ACTOR_API_KEY: "x" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout) +
      new TextDecoder().decode(r.stderr);
    const [runDir] = [...Deno.readDirSync(out)].filter((e) => e.isDirectory);
    assert.ok(runDir, stdout);
    const events =
      (await Deno.readTextFile(`${out}/${runDir.name}/events.jsonl`))
        .trim().split("\n").map((l) => JSON.parse(l));
    const taskOf = new Map<string, string>();
    const scores = new Map<string, number>();
    for (const e of events) {
      if (e.kind === "episode_started") taskOf.set(e.episode_id, e.task_id);
      if (e.kind === "episode_finished" && e.outcome) {
        scores.set(taskOf.get(e.episode_id)!, e.outcome.metrics.score);
      }
    }
    return { scores, stdout };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

async function buildTasks(): Promise<void> {
  const built = await new Deno.Command("/usr/bin/python3", {
    args: ["tools/dsbench_build.py"],
    stdout: "null",
  }).output();
  assert.equal(built.code, 0, "deno task dsbench:build failed");
}

Deno.test("a replaying or joining analyst scores no better than an honest model through deno task run", async () => {
  await buildTasks();
  // Every eval task, county_cancer_cases (which replaced randhie_visits) among them.
  const limit = (await Deno.readTextFile("pipelines/data/dsbench/eval.jsonl"))
    .trim().split("\n").length;
  const honest = await run(null, limit);
  const attack = await run([await attackReply(), "Done."], limit);
  assert.equal(attack.scores.size, limit, attack.stdout);
  assert.equal(honest.scores.size, limit, honest.stdout);
  for (const [task, score] of attack.scores) {
    const fair = honest.scores.get(task)!;
    assert.ok(score <= fair, `${task}: attack ${score} > honest ${fair}`);
    assert.equal(score, 0, `${task}: the attack beat the constant baseline`);
  }
});

async function builderSource(): Promise<string> {
  const bytes = await Deno.readFile("tools/dsbench_build.py");
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
}

// Knowing the column correspondence from the public builder, matches each test row to its nearest source
// row on standardised columns, which undoes the builder's affine maps and outlasts its noise.
async function joinCode(): Promise<string> {
  return [
    "import base64, pathlib, sys",
    "import pandas as pd",
    `pathlib.Path("/tmp/replay.py").write_bytes(base64.b64decode("${await builderSource()}"))`,
    "sys.path.insert(0, '/tmp')",
    "test = pd.read_csv('test.csv')",
    "sample = pd.read_csv('sample_submission.csv')",
    "feats = [c for c in test.columns if c != 'id']",
    "z = lambda f: ((f - f.mean()) / f.std()).fillna(0).to_numpy(float)",
    "try:",
    "    import replay",
    "    for tid, loader in replay.TASKS.items():",
    "        src, spec = loader()",
    "        src = src.rename(columns=spec.get('rename', {}))",
    "        if not set(feats) <= set(src.columns):",
    "            continue",
    "        num = [c for c in feats if src[c].dtype != object]",
    "        a, b = z(src[num].astype(float)), z(test[num].astype(float))",
    "        nearest = ((b[:, None, :] - a[None, :, :]) ** 2).sum(-1).argmin(1)",
    "        t = spec['target']",
    "        pd.DataFrame({'id': test['id'], t: src[t].to_numpy()[nearest]}).to_csv('submission.csv', index=False)",
    "        print('ATTACK: joined', tid)",
    "        break",
    "    else:",
    "        raise RuntimeError('no source has the columns of test.csv')",
    "except Exception as e:",
    "    print('ATTACK FAILED:', type(e).__name__, e)",
    "    sample.to_csv('submission.csv', index=False)",
  ].join("\n");
}

async function inJail(
  code: string,
  task: string,
  hidePaths?: string[],
): Promise<{ stdout: string; submission: string }> {
  const parent = await Deno.makeTempDir({ prefix: "mappa_attack_ws_" });
  await Deno.chmod(parent, 0o755);
  const ws = `${parent}/ws`;
  await Deno.mkdir(ws, { mode: 0o755 });
  try {
    for (const f of ["test.csv", "sample_submission.csv"]) {
      await Deno.copyFile(
        `pipelines/data/dsbench/tasks/${task}/${f}`,
        `${ws}/${f}`,
      );
    }
    const sandbox = await BwrapSandbox.create(
      hidePaths === undefined ? {} : { hidePaths },
    );
    const r = await sandbox.exec({
      language: "python",
      code,
      workspace: ws,
      limits: {
        wall_ms: 120_000,
        cpu_s: 120,
        memory_mb: 4096,
        output_cap_bytes: 65536,
        kill_output_bytes: 8 << 20,
        file_size_mb: 64,
        nproc: 64,
      },
      slot: 50,
    });
    return {
      stdout: r.stdout.text,
      submission: await Deno.readTextFile(`${ws}/submission.csv`),
    };
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

const answersOf = (task: string) =>
  Deno.readTextFile(`pipelines/data/dsbench/tasks/${task}/answers.csv`);

Deno.test("the replay attack is real: with nothing hidden it rebuilds the answers, in the default jail it fails", async () => {
  await buildTasks();
  const reply = await attackReply();
  const code = reply.slice(
    reply.indexOf("```python\n") + 10,
    reply.lastIndexOf("```"),
  );
  const task = "wine_cultivar";
  const answers = await answersOf(task);
  const open = await inJail(code, task, []);
  assert.match(open.stdout, new RegExp(`ATTACK: replayed ${task}`));
  assert.equal(open.submission, answers);
  const jailed = await inJail(code, task);
  assert.match(jailed.stdout, /ATTACK FAILED/);
  assert.notEqual(jailed.submission, answers);
});

Deno.test("the nearest-neighbour join is real: with nothing hidden it recovers the answers, in the default jail it fails", async () => {
  await buildTasks();
  const code = await joinCode();
  const task = "wine_cultivar";
  const answers = (await answersOf(task)).trim().split("\n");
  const agree = (submission: string) => {
    const rows = submission.trim().split("\n");
    assert.deepStrictEqual(rows[0], answers[0]);
    return rows.filter((r, i) => i > 0 && r === answers[i]).length /
      (answers.length - 1);
  };
  const open = await inJail(code, task, []);
  assert.match(open.stdout, new RegExp(`ATTACK: joined ${task}`));
  assert(agree(open.submission) >= 0.9, open.submission);
  const jailed = await inJail(code, task);
  assert.match(jailed.stdout, /ATTACK FAILED/);
  assert(agree(jailed.submission) < 0.5, jailed.submission);
});
