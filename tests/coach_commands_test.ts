import assert from "node:assert/strict";
import { runCli as cli } from "./run_cli.ts";
import { compileFile } from "../dsl/mod.ts";
import { readLayer, RunCoach } from "../coaches/mod.ts";
import {
  BwrapSandbox,
  createModelClient,
  runPipeline,
} from "../runtime/mod.ts";
import { startOpenAIServer } from "./fakes/openai_server.ts";

Deno.test("the inline coach judges every action over HTTP as roles finish, and writes its score layer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_coach_" });
  await using server = await startOpenAIServer({
    respond: (request) => {
      const body = request.body as { model: string; response_format?: unknown };
      if (body.model === "judge-model") {
        assert.ok(body.response_format, "the judge asks for structured output");
        return {
          kind: "reply",
          reply: {
            text: JSON.stringify({
              reasoning: "It answered.",
              score: 7,
              blame: null,
            }),
          },
        };
      }
      // Each episode answers its own question, so the two judge prompts differ and the judge
      // cache cannot fold them into one call, whatever the timing.
      const messages =
        (body as unknown as { messages: { content: string }[] }).messages;
      const question = messages[messages.length - 1]!.content;
      return {
        kind: "reply",
        reply: { text: `The answer to ${question} is \\boxed{4}.` },
      };
    },
  });
  await Deno.writeTextFile(
    `${dir}/tasks.jsonl`,
    '{"q": "2+2"}\n{"q": "1+3"}\n',
  );
  await Deno.writeTextFile(
    `${dir}/spec.yaml`,
    `version: 1
name: coached
models:
  actor: { model: actor-model, base_url: "${server.url}", family: a }
  coach: { model: judge-model, base_url: "${server.url}", family: b }
roles:
  - { id: solver, description: Solves it, model: actor, prompts: { user: "{{ task.q }}" }, outputs: { answer: { extract: last_boxed } } }
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: { q: q } } }
coach:
  model: coach
  rubric:
    name: quick
    template: "Score {{ role.name }}: {{ action.output }}"
`,
  );
  const compiled = compileFile(`${dir}/spec.yaml`);
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const graph = compiled.graph;
  const model = await createModelClient(graph.models, { baseDir: dir });
  const summary = await runPipeline(graph, {
    model,
    sandbox: await BwrapSandbox.create(),
  }, {
    policy: "model",
    outDir: `${dir}/runs`,
    coach: new RunCoach(graph, { client: model }),
  });
  assert.equal(summary.episodes_done, 2);
  const hash = Object.keys(graph.coach!.rubrics)[0]!;
  const verdicts = await readLayer(summary.run_dir, `quick@${hash}`);
  assert.deepEqual(
    verdicts.map((v) => [v.role, v.status, v.score, v.judge.kind]),
    [
      ["solver", "scored", 7, "llm"],
      ["solver", "scored", 7, "llm"],
    ],
  );
  assert.equal(
    server.requests.filter((r) =>
      (r.body as { model: string }).model === "judge-model"
    ).length,
    2,
  );
  // Each verdict keeps the exact prompt the judge was sent, in the run's blobs under its sha256.
  const sentPrompts = server.requests
    .filter((r) => (r.body as { model: string }).model === "judge-model")
    .flatMap((r) =>
      (r.body as { messages: { content: string }[] }).messages.map((m) =>
        m.content
      )
    );
  const prompts = await Promise.all(verdicts.map(async (verdict) => {
    const sha = verdict.judge.prompt_sha256!;
    return await Deno.readTextFile(
      `${summary.run_dir}/blobs/${sha.slice(0, 2)}/${sha}`,
    );
  }));
  // The solver's reply reaches the judge fenced as data, under the preamble that says so.
  assert.deepEqual(
    prompts.map((p) =>
      p.replace(/^Text between <data-[0-9a-f]{16}>[\s\S]*?\n\n/, "")
        .replace(/<\/?data-[0-9a-f]{16}>/g, "")
    ).toSorted(),
    [
      "Score solver: The answer to 1+3 is \\boxed{4}.",
      "Score solver: The answer to 2+2 is \\boxed{4}.",
    ],
  );
  for (const prompt of prompts) {
    assert.match(
      prompt,
      /Score solver: <data-([0-9a-f]{16})>The .*<\/data-\1>$/,
    );
  }
  for (const prompt of prompts) {
    assert.ok(
      sentPrompts.includes(prompt),
      `the blob holds what the judge was sent: ${prompt}`,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("rescore writes a layer once, compare diffs two layers, report writes a self-contained page", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_rescore_" });
  const run = await cli([
    "run",
    "pipelines/math.yaml",
    "--limit",
    "2",
    "--out",
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  // Offline, the demo policy answers the judge too: labelled scripted verdicts, a score layer, a report.
  assert.match(
    run.stderr,
    /^coach: demo judge \(scripted verdicts, labelled as such, not a model's\): models\.coach has no endpoint/m,
  );
  assert.match(run.stdout, /^ {2}report: deno task report \S+$/m);
  const [name] = [...Deno.readDirSync(out)].map((e) => e.name);
  const dir = `${out}/${name}`;
  for (const layer of Deno.readDirSync(`${dir}/scores`)) {
    const verdicts = Deno.readTextFileSync(`${dir}/scores/${layer.name}`)
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(verdicts.length > 0);
    for (const v of verdicts) {
      assert.match(
        v.reasoning,
        /^Demo judge: a scripted verdict, not a model's/,
      );
      assert.equal(v.judge.model_name, "demo-judge");
    }
  }
  await Deno.writeTextFile(
    `${out}/lenient.yaml`,
    "name: lenient\ndefault_score: 8\nchecks: [{ id: crash, when: tool_error, cap: 3 }]\n",
  );
  await Deno.writeTextFile(
    `${out}/strict.yaml`,
    "name: strict\ndefault_score: 6\nchecks: [{ id: crash, when: tool_error, cap: 1 }]\n",
  );
  const first = await cli(["rescore", dir, "--rubric", `${out}/lenient.yaml`]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^lenient@[0-9a-f]{12}: 8 verdicts written/);
  const again = await cli(["rescore", dir, "--rubric", `${out}/lenient.yaml`]);
  assert.match(again.stdout, /: 0 verdicts written .* 8 already in the layer/);
  const strict = await cli([
    "rescore",
    dir,
    "--rubric",
    `${out}/strict.yaml`,
    "--role",
    "verifier",
  ]);
  assert.match(strict.stdout, /^strict@[0-9a-f]{12}: 2 verdicts written/);
  const compared = await cli([
    "compare",
    dir,
    "lenient",
    "strict",
    "--format",
    "json",
  ]);
  assert.equal(compared.code, 0, compared.stderr);
  const result = JSON.parse(compared.stdout);
  assert.ok(JSON.stringify(result).includes("verifier"));
  const report = await cli(["report", dir, "--bias"]);
  assert.equal(report.code, 0, report.stderr);
  const html = await Deno.readTextFile(`${dir}/report.html`);
  assert.match(html, /DEMO POLICY/);
  assert.match(html, /lenient@/);
  assert.doesNotMatch(html, /<script|src="http/);
  const bad = await cli(["rescore", dir, "--rubric", `${out}/missing.yaml`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error\[file_not_found\]/);
  const notARun = await cli([
    "rescore",
    out,
    "--rubric",
    `${out}/lenient.yaml`,
  ]);
  assert.notEqual(notARun.code, 0);
  assert.match(
    notARun.stderr,
    /Cannot read run ".+": it has no manifest\.json; pass a run directory .* runs\/<run_id>/,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("coach.rejudge_with_outcome judges upstream roles again, with the outcome, into their own layer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_rejudge_" });
  await Deno.writeTextFile(`${dir}/tasks.jsonl`, '{"q": "2+2", "a": "4"}\n');
  await Deno.writeTextFile(
    `${dir}/spec.yaml`,
    `version: 1
name: rejudged
models: { m: { provider: scripted, model: demo } }
roles:
  - { id: drafter, description: Drafts, model: m, prompts: { user: "{{ task.q }}" } }
  - { id: finisher, description: Answers, model: m, after: [drafter], prompts: { user: "{{ task.q }}" },
      outputs: { answer: { extract: last_boxed } }, coach_sees_outcome: true }
dataset: { splits: { eval: tasks.jsonl }, fields: { answer: a, inputs: { q: q } } }
coach:
  model: m
  rejudge_with_outcome: true
  rubric: { name: offline, default_score: 7 }
outcome: { grader: exact_match, params: { answer: finisher.answer } }
`,
  );
  const compiled = compileFile(`${dir}/spec.yaml`);
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.diagnostics));
  const graph = compiled.graph;
  const { ScriptedModelClient } = await import("../runtime/mod.ts");
  const summary = await runPipeline(graph, {
    model: new ScriptedModelClient({
      after_last: "repeat_last",
      roles: { drafter: ["It is 4."], finisher: ["\\boxed{4}"] },
      tasks: {},
    }),
    sandbox: await BwrapSandbox.create(),
  }, { policy: "demo", outDir: `${dir}/runs`, coach: new RunCoach(graph) });
  const hash = Object.keys(graph.coach!.rubrics)[0]!;
  const inline = await readLayer(summary.run_dir, `offline@${hash}`);
  const rejudged = await readLayer(summary.run_dir, `offline_rejudged@${hash}`);
  assert.deepEqual(inline.map((v) => v.role).sort(), ["drafter", "finisher"]);
  assert.deepEqual(rejudged.map((v) => [v.role, v.status, v.score]), [[
    "drafter",
    "scored",
    7,
  ]]);
  await Deno.remove(dir, { recursive: true });
});
