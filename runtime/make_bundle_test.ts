// What `makeBundle` takes into a bundle and what it refuses, on specs written into a temporary folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BundleError, decodeBundle } from "../dsl/bundle.ts";
import { makeBundle } from "./make_bundle.ts";

const SPEC = `version: 1
name: packed
models:
  m: { model: m }
roles:
  - id: solver
    description: Solves
    model: m
    prompts: { user: file://prompts/solver.md }
    produces:
      - { path: out.json, schema: schemas/out.json }
dataset:
  splits: { eval: data/tasks.jsonl, top: top.jsonl }
  fields: { inputs: { q: q } }
  files:
    - { path: "inputs/{{ task.id }}.txt", as: in.txt }
    - { path: "{{ task.id }}.in", as: extra.txt }
`;

async function folder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mappa_pack_" });
  const write = async (path: string, text: string) => {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  };
  await write("spec.yaml", SPEC);
  await write("prompts/solver.md", "Solve {{ task.q }}");
  await write("schemas/out.json", '{"type": "object"}');
  await write("data/tasks.jsonl", '{"q": "1"}\n');
  await write("data/answers/1.csv", "id,y\n1,2\n");
  await write("top.jsonl", '{"q": "2"}\n');
  await write("inputs/0.txt", "input");
  // A task file in the spec's own folder: taken as the task names it, not with the folder.
  await write("0.in", "extra");
  // Beside the spec but named by nothing: a bundle never sweeps the spec's own folder.
  await write(".env", "OPENAI_API_KEY=sk-secret");
  await write("notes/private.md", "not for sharing");
  return dir;
}

Deno.test("makeBundle takes the spec, its includes, schemas and data folders, and nothing else beside them", async () => {
  const dir = await folder();
  try {
    const made = await makeBundle(join(dir, "spec.yaml"));
    assert.ok(made.ok);
    assert.deepEqual([...made.files].sort(), [
      "0.in",
      "data/answers/1.csv",
      "data/tasks.jsonl",
      "inputs/0.txt",
      "prompts/solver.md",
      "schemas/out.json",
      "spec.yaml",
      "top.jsonl",
    ]);
    assert.equal(decodeBundle(made.text).sha256, made.sha256);
    const bare = await makeBundle(join(dir, "spec.yaml"), { noData: true });
    assert.ok(bare.ok);
    assert.deepEqual([...bare.files].sort(), [
      "prompts/solver.md",
      "schemas/out.json",
      "spec.yaml",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("makeBundle refuses a link in a data folder and a missing split, and reports a spec that does not compile", async () => {
  const dir = await folder();
  try {
    await Deno.symlink("/etc/hostname", join(dir, "data", "host.txt"));
    await assert.rejects(
      () => makeBundle(join(dir, "spec.yaml")),
      (e) =>
        e instanceof BundleError &&
        /Cannot bundle the link ".*data\/host\.txt": a bundle holds files, not links/
          .test(e.message),
    );
    await Deno.remove(join(dir, "data"), { recursive: true });
    await assert.rejects(
      () => makeBundle(join(dir, "spec.yaml")),
      /Cannot bundle ".*data\/tasks\.jsonl": no such file; build the data first or leave it out with --no-data/,
    );
    await Deno.writeTextFile(
      join(dir, "spec.yaml"),
      SPEC.replace("file://prompts/solver.md", "file://../x.md"),
    );
    const bad = await makeBundle(join(dir, "spec.yaml"), { noData: true });
    assert.ok(!bad.ok);
    assert.equal(bad.compiled.diagnostics[0]!.code, "include_outside_folder");
    await assert.rejects(
      () => makeBundle("pipelines/review.ts"),
      /Cannot bundle the TS spec "pipelines\/review\.ts": a TS spec is a program/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
