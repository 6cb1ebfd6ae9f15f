import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "./compile.ts";
import { loadRubricFile, RubricFileError } from "./rubric_file.ts";
import { writeFiles } from "../tests/fixtures/compile_yaml.ts";

function errorOf(fn: () => unknown): RubricFileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RubricFileError) return e;
    throw e;
  }
  throw new Error("expected a RubricFileError");
}

Deno.test("loadRubricFile() hashes a shipped rubric as the compiler does", () => {
  for (
    const [spec, rubric] of [
      ["pipelines/math.yaml", "pipelines/rubrics/math.yaml"],
      ["pipelines/dsbench.yaml", "pipelines/rubrics/dsbench_analyst.yaml"],
    ] as const
  ) {
    const compiled = compileFile(spec);
    assert.ok(compiled.ok);
    const loaded = loadRubricFile(rubric);
    const fromSpec = compiled.graph.coach!.rubrics[loaded.hash];
    assert.ok(
      fromSpec,
      `${rubric}: no rubric with hash ${loaded.hash} in ${spec}`,
    );
    assert.deepEqual(loaded, fromSpec);
  }
});

Deno.test("loadRubricFile() reads a template included with file://", async () => {
  const dir = await Deno.makeTempDir();
  const text = "Score {{ role.id }} from {{ scale.min }} to {{ scale.max }}.\n";
  await writeFiles(dir, {
    "judge.md": text,
    "a.yaml": "name: a\ntemplate: file://judge.md\n",
    "b.yaml": `name: a\ntemplate: ${JSON.stringify(text)}\n`,
  });
  const a = loadRubricFile(join(dir, "a.yaml"));
  assert.equal(a.template, text);
  assert.deepEqual(a.scale, { min: 0, max: 10 });
  assert.equal(a.hash, loadRubricFile(join(dir, "b.yaml")).hash);
  assert.equal(a.file, join(dir, "a.yaml"));
});

Deno.test("loadRubricFile() names the file, position and key of each problem", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "bad.yaml");
  await Deno.writeTextFile(
    file,
    "name: bad\nscale: { min: 0, max: ten }\ntemplat: hi\n",
  );
  const e = errorOf(() => loadRubricFile(file));
  assert.deepEqual(
    e.diagnostics.map((d) => [d.code, d.position?.line, d.path.join(".")]),
    [["invalid_type", 2, "scale.max"], ["unrecognized_keys", 3, "templat"]],
  );
  assert.match(e.diagnostics[1]!.hint ?? "", /template/);
  assert.equal(
    e.message.split(": Cannot")[0],
    `Cannot load rubric "${file}": ${file}:2:23 at scale.max`,
  );
  assert.match(e.message, /\(and 1 more\)$/);
  assert.ok(e.sources.has(file));
});

Deno.test("loadRubricFile() refuses a rubric with no judge, an empty scale or no file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "none.yaml"), "name: none\n");
  const none = errorOf(() => loadRubricFile(join(dir, "none.yaml")));
  assert.deepEqual(none.diagnostics.map((d) => d.code), ["missing_key"]);
  assert.match(none.message, /neither a template .* nor a default_score/);

  await Deno.writeTextFile(
    join(dir, "flat.yaml"),
    "name: flat\ndefault_score: 1\nscale: { min: 1, max: 1 }\n",
  );
  const flat = errorOf(() => loadRubricFile(join(dir, "flat.yaml")));
  assert.deepEqual(
    flat.diagnostics.map((d) => [d.code, d.position?.line]),
    [["score_out_of_scale", 3]],
  );

  const missing = errorOf(() => loadRubricFile(join(dir, "nope.yaml")));
  assert.deepEqual(missing.diagnostics.map((d) => d.code), ["file_not_found"]);
});

Deno.test("loadRubricFile() reports an unknown root variable of the template at its place, with a hint", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/r.yaml`,
    "name: r\ntemplate: |\n  Score {{ acton.output }}\n",
  );
  try {
    await loadRubricFile(`${dir}/r.yaml`);
    throw new Error("expected a RubricFileError");
  } catch (e) {
    if (!(e instanceof RubricFileError)) throw e;
    assert.deepEqual(
      e.diagnostics.map((
        d,
      ) => [d.code, d.position?.line, d.position?.column, d.hint]),
      [["unknown_template_variable", 3, 12, 'did you mean "action"?']],
    );
  }
  await Deno.remove(dir, { recursive: true });
});
