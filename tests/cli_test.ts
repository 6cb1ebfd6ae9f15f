import assert from "node:assert/strict";
import { startOpenAIServer } from "./fakes/openai_server.ts";
import { runCli as cli } from "./run_cli.ts";

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

async function tempSpec(
  text: string | Uint8Array,
  name = "spec.yaml",
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_cli_" });
  const path = `${dir}/${name}`;
  if (typeof text === "string") await Deno.writeTextFile(path, text);
  else await Deno.writeFile(path, text);
  return path;
}

Deno.test("check exits 0 on every shipped spec and prints a one-line summary", async () => {
  for (
    const spec of [
      "pipelines/math.yaml",
      "pipelines/dsbench.yaml",
      "pipelines/debate.yaml",
      "pipelines/review.ts",
    ]
  ) {
    const r = await cli(["check", spec]);
    assert.equal(r.code, 0, `${spec}: ${r.stderr}`);
    assert.match(
      r.stdout,
      new RegExp(
        `^${
          spec.replace(/[./]/g, "\\$&")
        }: ok: \\d+ roles, \\d+ stages, spec_hash [0-9a-f]{12}\\n$`,
      ),
    );
  }
});

Deno.test("check exits 1 and renders file:line:col diagnostics for a broken spec", async () => {
  const path = await tempSpec(
    [
      "version: 1",
      "name: broken",
      "models: { m: { model: a } }",
      "roles:",
      "  - id: solver",
      "    description: d",
      "    model: m",
      "    max_turn: 2",
      "    prompts: { user: hi }",
      "dataset: { splits: { eval: t.jsonl }, fields: { inputs: {} } }",
      "",
    ].join("\n"),
  );
  const r = await cli(["check", path]);
  assert.equal(r.code, 1);
  const first = r.stderr.split("\n")[0]!;
  assert.equal(
    first,
    `${path}:8:5: error[unrecognized_keys]: Cannot recognize key "max_turn" in roles[0]`,
  );
  assert.match(r.stderr, /= hint: did you mean "max_turns"\?/);
  assert.match(r.stderr, /^1 error, 0 warnings$/m);
});

Deno.test("check --format json prints diagnostics as data", async () => {
  const path = await tempSpec("version: 1\nname: x\nroles: []\n");
  const r = await cli(["check", path, "--format", "json"]);
  assert.equal(r.code, 1);
  const parsed = JSON.parse(r.stdout);
  assert.equal(parsed.ok, false);
  assert.equal(parsed.spec_hash, null);
  const codes = parsed.diagnostics.map((
    d: { code: string; line: number; col: number },
  ) => [d.code, d.line, d.col]);
  assert.deepEqual(codes, [["missing_key", 1, 1], ["missing_key", 1, 1], [
    "too_small",
    3,
    8,
  ]]);
  const ok = await cli(["check", "pipelines/math.yaml", "--format", "json"]);
  assert.equal(ok.code, 0);
  assert.match(JSON.parse(ok.stdout).spec_hash, /^[0-9a-f]{64}$/);
});

Deno.test("check never prints a stack trace, whatever the input", async (t) => {
  const garbage = new Uint8Array(512).map((_, i) => (i * 7919) % 256);
  const spec = (user: string) =>
    `version: 1\nname: x\nmodels: { m: { model: a } }\nroles:\n  - { id: a, description: d, model: m, prompts: { user: ${user} } }\ndataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }\n`;
  const binary = await tempSpec(garbage, "binary.md");
  // Exit 1: the spec is at fault and each problem is a diagnostic.
  const invalid: [string, string[]][] = [
    ["a missing file", ["check", "does/not/exist.yaml"]],
    ["binary garbage", ["check", await tempSpec(garbage)]],
    ["a directory", ["check", "pipelines"]],
    ["a YAML scalar", ["check", await tempSpec("just a string\n")]],
    ["tabs and an unclosed flow", [
      "check",
      await tempSpec("roles: [\n\t- x\n"),
    ]],
    ["a TS module without a default export", [
      "check",
      await tempSpec("export const x = 1;\n", "spec.ts"),
    ]],
    ["a TS module that throws", [
      "check",
      await tempSpec("throw new Error('boom');\n", "spec.ts"),
    ]],
    ["a TS module with a syntax error", [
      "check",
      await tempSpec("export default { a: 1 b: 2 };\n", "spec.ts"),
    ]],
    ["a TS spec that contains itself", [
      "check",
      await tempSpec(
        "const s: Record<string, unknown> = { version: 1 };\ns.self = s;\nexport default s;\n",
        "spec.ts",
      ),
    ]],
    ["a Liquid include", [
      "check",
      await tempSpec(spec(`'{% include "secret.txt" %}'`)),
    ]],
    ["a binary include", ["check", await tempSpec(spec(`"file://${binary}"`))]],
    ["an include of /dev/zero", [
      "check",
      await tempSpec(spec(`"file:///dev/zero"`)),
    ]],
    ["values nested 5,000 deep", [
      "check",
      await tempSpec(`a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`),
    ]],
  ];
  // Exit 2: the command line is at fault.
  const usage: [string, string[]][] = [
    ["an unknown flag", ["check", "pipelines/math.yaml", "--frobnicate"]],
    ["a bad format", ["check", "pipelines/math.yaml", "--format", "xml"]],
    ["no spec", ["check"]],
    ["an unknown command", ["frobnicate"]],
  ];
  for (
    const [name, args, code] of [
      ...invalid.map((c) => [...c, 1] as const),
      ...usage.map((c) => [...c, 2] as const),
    ]
  ) {
    await t.step(name, async () => {
      const r = await cli(args);
      assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(r.stderr.trim().length > 0, "an explanation is printed");
      if (code === 1) assert.match(r.stderr, /: error\[[a-z_]+\]: Cannot /);
    });
  }
});

Deno.test("graph prints Mermaid, DOT and JSON of the execution graph", async () => {
  const mermaid = await cli(["graph", "pipelines/dsbench.yaml"]);
  assert.equal(mermaid.code, 0, mermaid.stderr);
  assert.match(mermaid.stdout, /^flowchart LR\n/);
  assert.match(
    mermaid.stdout,
    /r_data_engineer -->\|"X_train\.pkl, y_train\.pkl"\| r_modeler/,
  );
  assert.match(mermaid.stdout, /r_modeler -->\|"model\.pkl"\| r_analyst/);
  const dot = await cli(["graph", "pipelines/debate.yaml", "--format", "dot"]);
  assert.equal(dot.code, 0, dot.stderr);
  assert.match(
    dot.stdout,
    /subgraph "cluster_rounds" \{\n\s+label="loop rounds: up to 3 rounds";/,
  );
  const json = await cli(["graph", "pipelines/math.yaml", "--format", "json"]);
  const graph = JSON.parse(json.stdout);
  assert.deepEqual(graph.roles.map((r: { id: string }) => r.id), [
    "problem_solver",
    "code_executor",
    "verifier",
  ]);
});

Deno.test("schema --check passes: schema/*.schema.json is up to date with the zod schema", async () => {
  const r = await cli(["schema", "--check"]);
  assert.equal(r.code, 0, `${r.stderr}\nrun: deno task schema`);
});

Deno.test("schema --check fails on a stale schema file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_schema_" });
  const written = await cli(["schema", "--out", dir]);
  assert.equal(written.code, 0, written.stderr);
  await Deno.writeTextFile(`${dir}/rubric.schema.json`, "{}\n");
  const r = await cli(["schema", "--out", dir, "--check"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /Cannot use .*rubric\.schema\.json: it is stale; run deno task schema/,
  );
});

Deno.test("run executes the demo policy offline, says so first, and writes a run directory", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_runs_" });
  const r = await cli([
    "run",
    "pipelines/math.yaml",
    "--limit",
    "1",
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout.split("\n")[0]!,
    /^mappa run pipelines\/math\.yaml: DEMO POLICY: scripted replies from /,
  );
  assert.match(r.stdout, /episodes: 1 completed, 0 failed of 1/);
  const [dir] = [...Deno.readDirSync(out)].map((e) => e.name);
  const manifest = JSON.parse(
    await Deno.readTextFile(`${out}/${dir}/manifest.json`),
  );
  assert.equal(manifest.policy, "demo");
  assert.equal(manifest.status, "completed");
  assert.match(dir!, /^math__42__\d+$/);
});

Deno.test("run says which model's max_concurrency caps it below --concurrency, and how to raise it", async () => {
  await using server = await startOpenAIServer({ latency_ms: 20 });
  const spec = await tempSpec(`version: 1
name: capped
models:
  actor: { model: actor-model, base_url: "${server.url}", max_concurrency: 2 }
roles:
  - { id: solo, description: Answers, model: actor, prompts: { user: "{{ task.q }}" } }
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: { q: q } } }
`);
  await Deno.writeTextFile(
    spec.replace("spec.yaml", "tasks.jsonl"),
    '{"q": "a"}\n{"q": "b"}\n{"q": "c"}\n{"q": "d"}\n',
  );
  const out = await Deno.makeTempDir({ prefix: "mappa_runs_" });
  const r = await cli(["run", spec, "--concurrency", "4", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^mappa: model "actor" caps requests at 2 while 4 episodes run \(they could keep 4 in flight\); raise models\.actor\.max_concurrency, or remove it to follow --concurrency$/m,
  );
});

Deno.test("check goes on past a spec that cannot load, so every spec is checked", async () => {
  const broken = await tempSpec("throw new Error('boom');\n", "spec.ts");
  const r = await cli([
    "check",
    broken,
    "pipelines/math.yaml",
    "--format",
    "json",
  ]);
  assert.equal(r.code, 1);
  const reports = JSON.parse(r.stdout) as {
    spec: string;
    ok: boolean;
    diagnostics: { code: string }[];
  }[];
  assert.deepEqual(reports.map((x) => [x.ok, x.diagnostics[0]?.code ?? null]), [
    [false, "invalid_module"],
    [true, null],
  ]);
});

Deno.test("check takes several specs and fails when any of them is invalid", async () => {
  const bad = await tempSpec("version: 1\nname: bad\n");
  const text = await cli(["check", "pipelines/math.yaml", bad]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^pipelines\/math\.yaml: ok: /);
  assert.match(text.stderr, /error\[missing_key\]/);
  const json = await cli([
    "check",
    "pipelines/math.yaml",
    bad,
    "--format",
    "json",
  ]);
  assert.equal(json.code, 1);
  const reports = JSON.parse(json.stdout) as { spec: string; ok: boolean }[];
  assert.deepEqual(reports.map((r) => [r.spec, r.ok]), [[
    "pipelines/math.yaml",
    true,
  ], [bad, false]]);
});
