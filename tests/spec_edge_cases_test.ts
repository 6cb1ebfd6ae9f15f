import assert from "node:assert/strict";
import {
  compile,
  type CompileOptions,
  type CompileResult,
  compileSpec,
  type Diagnostic,
} from "../dsl/mod.ts";

// Edge cases found by review: each asserts the code, position and (where it matters) the hint.

const MODEL = "models: { m: { model: a } }";
const DATASET =
  'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: { q: q } } }';

function role(extra = "", user = "hi"): string {
  return `  - { id: a, description: d, model: m, prompts: { user: ${user} }${extra} }`;
}

function run(lines: string[], options: CompileOptions = {}): CompileResult {
  return compile(lines.join("\n") + "\n", { file: "case.yaml", ...options });
}

function problems(result: CompileResult): Diagnostic[] {
  assert.ok(!result.ok, "expected diagnostics, the spec compiled");
  return [...result.diagnostics];
}

function where(
  d: Diagnostic,
): [string, number | undefined, number | undefined] {
  return [d.code, d.position?.line, d.position?.column];
}

Deno.test("compile() rejects Liquid tags that read files, without reading them", () => {
  const ds = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles:",
      role("", `'{% include "secret.txt" %}'`),
      DATASET,
    ]),
  );
  assert.deepEqual(ds.map(where), [["template_syntax", 5, 58]]);
  assert.match(ds[0]!.message, /the tag "include" reads another file/);
});

Deno.test("compile() rejects an unknown Liquid filter with the closest one as hint", () => {
  const ds = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles:",
      role("", `"{{ task.q | upcasee }}"`),
      DATASET,
    ]),
  );
  assert.deepEqual(ds.map(where), [["template_syntax", 5, 70]]);
  assert.equal(ds[0]!.hint, 'did you mean "upcase"?');
});

Deno.test("compile() reads ${env} text as the number or boolean the schema wants, and leaves strings as text", () => {
  const env = (n: string) =>
    ({ T: "3", TR: "false", M: "7" } as Record<string, string>)[n];
  const result = run([
    "version: 1",
    "name: x",
    'models: { m: { model: "${env.M}", sampling: { max_tokens: "${env.MT:-100}" } } }',
    "roles:",
    role(', max_turns: "${env.T}", trainable: "${env.TR}"'),
    DATASET,
  ], { env });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  assert.equal(result.graph.models.m!.model, "7");
  assert.equal(result.graph.models.m!.sampling.max_tokens, 100);
  assert.equal(result.graph.roles[0]!.max_turns, 3);
  assert.equal(result.graph.roles[0]!.trainable, false);
});

Deno.test("compile() keeps workspace paths inside the workspace", () => {
  const ds = problems(run([
    "version: 1",
    "name: x",
    MODEL,
    "roles:",
    role(', produces: ["../evil.txt"], consumes: ["/etc/passwd"]'),
    DATASET,
  ]));
  assert.deepEqual(ds.map((d) => [d.code, d.path.join(".")]), [
    ["invalid_value", "roles.0.produces.0"],
    ["invalid_value", "roles.0.consumes.0"],
  ]);
});

Deno.test("compile() needs at least one dataset split", () => {
  const ds = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles:",
      role(),
      "dataset: { splits: {}, fields: { inputs: {} } }",
    ]),
  );
  assert.deepEqual(ds.map(where), [["invalid_value", 6, 20]]);
});

Deno.test("compile() follows absolute file:// includes that allowRead names, rejects files that are not text and never reads /dev", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/ok.md`, "Solve {{ task.q }}");
  await Deno.writeFile(
    `${dir}/bin.md`,
    new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
  );
  const ok = run([
    "version: 1",
    "name: x",
    MODEL,
    "roles:",
    role("", `"file://${dir}/ok.md"`),
    DATASET,
  ], { allowRead: [dir] });
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.diagnostics));
  const bad = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles:",
      role("", `"file://${dir}/bin.md"`),
      DATASET,
    ], { allowRead: [dir] }),
  );
  // The bad byte is located in the file itself, with the include as a note.
  assert.deepEqual(bad.map(where), [["file_not_text", 1, 1]]);
  assert.equal(bad[0]!.file, `${dir}/bin.md`);
  assert.match(bad[0]!.message, /it is not UTF-8 text: byte 0 is 0xff$/);
  assert.equal(bad[0]!.related?.[0]?.position?.line, 5);
  const dev = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles:",
      role("", `"file:///dev/zero"`),
      DATASET,
    ], { allowRead: ["/"] }),
  );
  assert.match(
    dev[0]!.message,
    /"\/dev\/zero": it is under \/dev, which a spec never reads/,
  );
});

Deno.test("compileSpec() reports a spec object that contains itself", () => {
  const spec: Record<string, unknown> = { version: 1, name: "x" };
  spec.models = { m: { model: "a", loop: spec } };
  const ds = problems(compileSpec(spec, { file: "s.ts" }));
  assert.deepEqual(ds.map((d) => [d.code, d.path.join(".")]), [[
    "invalid_value",
    "models.m.loop",
  ]]);
});

Deno.test("compile() positions template variables inside folded and escaped strings on the variable", () => {
  const ds = problems(run([
    "version: 1",
    "name: x",
    MODEL,
    "roles:",
    "  - id: a",
    "    description: d",
    "    model: m",
    "    prompts:",
    "      user: >-",
    "        Solve the problem",
    "        {{ task.nope }} now",
    '      system: "tab\\there {{ task.bad }}"',
    DATASET,
  ]));
  assert.deepEqual(ds.map(where), [
    ["unknown_template_variable", 11, 12],
    ["unknown_template_variable", 12, 29],
  ]);
});

Deno.test("compile() checks loops, caps, regex groups and graded files", async (t) => {
  const base = ["version: 1", "name: x", MODEL];
  await t.step("a loop's until reads a role outside the loop", () => {
    const ds = problems(run([
      ...base,
      "roles:",
      "  - { id: a, description: d, model: m, prompts: { user: hi } }",
      "  - { id: j, description: d, model: m, after: [a], prompts: { user: hi }, outputs: { v: { extract: final_text } } }",
      "flow: { loops: [{ id: l, roles: [a], max_rounds: 2, until: { output: j.v, matches: x } }] }",
      DATASET,
    ]));
    assert.deepEqual(ds.map((d) => d.code), ["invalid_loop"]);
  });
  await t.step(
    "a check caps below its own floor, and a catch-all band hides the next",
    () => {
      const ds = problems(run([
        ...base,
        "roles:",
        role(
          ", coach_sees_outcome: true, outputs: { ans: { extract: final_text } }",
        ),
        DATASET,
        "coach:",
        "  model: m",
        "  rubric:",
        "    name: r",
        "    template: t",
        "    checks: [{ id: c, when: empty_reply, cap: 3, floor: 7 }]",
        "    caps: [{ id: k, metric: correct, bands: [{ max_score: 2 }, { at_least: 1, max_score: 9 }] }]",
        "outcome: { grader: exact_match, params: { answer: a.ans } }",
      ]));
      assert.deepEqual(
        ds.map((d) => d.code).sort(),
        ["invalid_value", "score_out_of_scale", "self_preference"].sort(),
      );
    },
  );
  await t.step(
    "a regex output extracts a group its pattern does not have",
    () => {
      const ds = problems(run([
        ...base,
        "roles:",
        role(
          ", outputs: { v: { extract: regex, pattern: 'V: (\\w+)', group: 2 } }",
        ),
        DATASET,
      ]));
      assert.deepEqual(ds.map((d) => [d.code, d.path.join(".")]), [[
        "invalid_regex",
        "roles.0.outputs.v.group",
      ]]);
    },
  );
  await t.step("a tabular grader reads a file no role produces", () => {
    const ds = problems(run([
      ...base,
      "roles:",
      role(),
      DATASET,
      "outcome: { grader: tabular_metric, params: { submission: submission.csv, answers: a } }",
    ]));
    assert.deepEqual(ds.map((d) => [d.code, d.path.join(".")]), [[
      "unproduced_input",
      "outcome.params.submission",
    ]]);
  });
  await t.step(
    "train.roles names a role twice, and the default train split does not exist",
    () => {
      const ds = problems(
        run([...base, "roles:", role(), DATASET, "train: { roles: [a, a] }"]),
      );
      assert.deepEqual(ds.map((d) => [d.code, d.path.join(".")]), [
        ["unknown_split", "train"],
        ["duplicate_id", "train.roles.1"],
      ]);
      assert.equal(
        ds[0]!.hint,
        "name the split to train on: train: { split: eval }",
      );
    },
  );
});

Deno.test("compile() hints at the usual slips: a key one level up, a bare word for a list, a quoted number", () => {
  const ds = problems(run([
    "version: 1",
    "name: x",
    "models: { m: { model: a, temperature: 0.2 } }",
    "roles:",
    role(', after: b, max_turns: "3"'),
    DATASET,
  ]));
  assert.deepEqual(ds.map((d) => d.hint), [
    "did you mean to put it under sampling: { temperature: ... }?",
    "write a list: [b]",
    "remove the quotes",
  ]);
});

Deno.test("compile() shows the include chain in notes for an error two includes deep (issue 14)", () => {
  const files: Record<string, string> = {
    "parts/roles.yaml": [
      "- id: a",
      "  description: d",
      "  model: m",
      "  prompts: { user: file://prompt.md }",
    ].join("\n"),
    "parts/prompt.md": "Solve {{ task.nope }}",
  };
  const ds = problems(
    run([
      "version: 1",
      "name: x",
      MODEL,
      "roles: file://parts/roles.yaml",
      DATASET,
    ], {
      readFile: (p) => {
        if (Object.hasOwn(files, p)) return files[p]!;
        throw new Deno.errors.NotFound(p);
      },
    }),
  );
  assert.deepEqual(ds.map(where), [["unknown_template_variable", 1, 10]]);
  assert.equal(ds[0]!.file, "parts/prompt.md");
  assert.deepEqual(
    ds[0]!.related?.map((r) => [r.file, r.position?.line, r.position?.column]),
    [["parts/roles.yaml", 4, 20], ["case.yaml", 4, 8]],
  );
});

Deno.test("compile() refuses spec text over 1 MiB at its start, without parsing it (issue 14)", () => {
  const started = performance.now();
  const ds = problems(run(["x:", ..."  - 1\n".repeat(200_000).split("\n")]));
  assert.deepEqual(ds.map(where), [["file_too_large", 1, 1]]);
  assert.ok(performance.now() - started < 500);
});

Deno.test("compile() builds a chain of 1,000 roles, the role budget, in under 2 s (issue 14)", () => {
  const roles = Array.from(
    { length: 1000 },
    (_, i) =>
      `  - { id: r${i}, description: d, model: m, prompts: { user: hi }${
        i > 0 ? `, after: [r${i - 1}]` : ""
      } }`,
  );
  const started = performance.now();
  const result = run([
    "version: 1",
    "name: x",
    MODEL,
    "roles:",
    ...roles,
    DATASET,
  ]);
  const ms = performance.now() - started;
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics[0]));
  assert.equal(result.graph.stages.length, 1000);
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
});
