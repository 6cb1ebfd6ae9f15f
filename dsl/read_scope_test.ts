// Confinement on local specs (DESIGN.md decision 12): every way out of the spec's folder is refused
// before anything is read, and --allow-read (compile's allowRead) lets through exactly what it names.
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile, type CompileOptions } from "./compile.ts";
import type { Diagnostic } from "./diagnostic.ts";

const SECRET = "TOP-SECRET-CONTENT";

/** A spec folder `root/spec` beside files outside it (`root/outside.md`, `root/secret.md`, `root/base.yaml`, `root/data.jsonl`). */
async function layout(): Promise<{ root: string; spec: string }> {
  const root = await Deno.makeTempDir({ prefix: "mappa_scope_" });
  await Deno.mkdir(join(root, "spec"));
  await Deno.writeTextFile(join(root, "outside.md"), `Solve {{ task.q }}`);
  await Deno.writeTextFile(join(root, "secret.md"), SECRET);
  await Deno.writeTextFile(join(root, "base.yaml"), "description: from base\n");
  await Deno.writeTextFile(join(root, "data.jsonl"), '{"q": "1"}\n');
  await Deno.writeTextFile(join(root, "spec", "tasks.jsonl"), '{"q": "1"}\n');
  return { root, spec: join(root, "spec") };
}

function specText(
  prompt: string,
  split = "tasks.jsonl",
  head = "",
): string {
  return `${head}version: 1
name: scoped
models:
  m: { model: m }
roles:
  - id: solver
    description: Solves
    model: m
    prompts:
      user: ${JSON.stringify(prompt)}
dataset:
  splits: { eval: ${JSON.stringify(split)} }
  fields: { inputs: { q: q } }
`;
}

async function compileIn(
  dir: string,
  text: string,
  options: Omit<CompileOptions, "file"> = {},
) {
  const file = join(dir, "pipeline.yaml");
  await Deno.writeTextFile(file, text);
  return compileFile(file, options);
}

function refusal(
  result: ReturnType<typeof compileFile>,
  pattern: RegExp,
): Diagnostic {
  assert.equal(result.ok, false, "the spec compiled");
  const ds = result.ok ? [] : result.diagnostics;
  const d = ds.find((d) => d.code === "include_outside_folder");
  assert.ok(d, ds.map((d) => d.message).join("\n"));
  assert.equal(d.severity, "error");
  assert.match(d.message, pattern);
  assert.ok(d.position, "the refusal is located");
  // Nothing outside was read: its text is in no source.
  for (const s of result.sources.values()) assert.ok(!s.text.includes(SECRET));
  return d;
}

Deno.test("includes and extends that leave the spec's folder are errors, read never", async (t) => {
  const { root, spec } = await layout();
  try {
    await t.step("../", async () => {
      refusal(
        await compileIn(spec, specText("file://../secret.md")),
        /Cannot read included file ".*secret\.md": it is outside the spec's folder/,
      );
    });
    await t.step("an absolute path and file:///etc/passwd", async () => {
      refusal(
        await compileIn(spec, specText(`file://${join(root, "secret.md")}`)),
        /outside the spec's folder/,
      );
      refusal(
        await compileIn(spec, specText("file:///etc/passwd")),
        /"\/etc\/passwd": it is outside/,
      );
    });
    await t.step("a symlink inside the folder pointing out", async () => {
      await Deno.mkdir(join(spec, "prompts"), { recursive: true });
      await Deno.symlink(
        join(root, "secret.md"),
        join(spec, "prompts", "p.md"),
      );
      refusal(
        await compileIn(spec, specText("file://prompts/p.md")),
        /it is outside the spec's folder .* \(it resolves to ".*secret\.md"\)/,
      );
      // A linked folder is no way out either.
      await Deno.symlink(root, join(spec, "up"));
      refusal(
        await compileIn(spec, specText("file://up/secret.md")),
        /resolves to/,
      );
    });
    await t.step("extends ../base.yaml", async () => {
      refusal(
        await compileIn(
          spec,
          specText("x", "tasks.jsonl", "extends: ../base.yaml\n"),
        ),
        /Cannot read included file ".*base\.yaml": it is outside/,
      );
    });
    await t.step("/proc/self/environ, even with --allow-read /", async () => {
      const d = refusal(
        await compileIn(spec, specText("file:///proc/self/environ"), {
          allowRead: ["/"],
        }),
        /it is under \/proc, which a spec never reads, whatever --allow-read says/,
      );
      assert.match(d.hint!, /copy what the spec needs into its folder/);
    });
    await t.step(
      "the demo policy, a model script and a task file template outside",
      async () => {
        refusal(
          await compileIn(spec, specText("x") + "demo: ../demo.yaml\n"),
          /Cannot read the demo policy ".*demo\.yaml": it is outside/,
        );
        refusal(
          await compileIn(
            spec,
            specText("x").replace(
              "m: { model: m }",
              "m: { model: m, provider: scripted, script: /etc/passwd }",
            ),
          ),
          /Cannot read the model script "\/etc\/passwd": it is outside/,
        );
        refusal(
          await compileIn(
            spec,
            specText("x").replace(
              "  fields:",
              '  files: [{ path: "../{{ task.q }}.txt", as: in.txt }]\n  fields:',
            ),
          ),
          /Cannot read the task input file ".*": it is outside/,
        );
      },
    );
    await t.step(
      "dataset splits outside, directly or through a link",
      async () => {
        refusal(
          await compileIn(spec, specText("x", "../data.jsonl")),
          /the file of split "eval" ".*data\.jsonl": it is outside/,
        );
        refusal(
          await compileIn(spec, specText("x", join(root, "data.jsonl"))),
          /it is outside/,
        );
        refusal(
          await compileIn(spec, specText("x", "up/data.jsonl")),
          /resolves to/,
        );
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("allowRead lets through exactly the paths it names, and the graph carries them to the runtime", async () => {
  const { root, spec } = await layout();
  try {
    const allowRead = [join(root, "outside.md"), join(root, "data.jsonl")];
    const ok = await compileIn(
      spec,
      specText("file://../outside.md", "../data.jsonl"),
      { allowRead },
    );
    assert.ok(ok.ok, ok.ok ? "" : ok.diagnostics[0]!.message);
    const roots = ok.graph.dataset.read_roots;
    assert.deepEqual(roots, [
      await Deno.realPath(spec),
      ...allowRead,
    ]);
    // The file beside the allowed one is still refused.
    refusal(
      await compileIn(spec, specText("file://../secret.md"), { allowRead }),
      /secret\.md": it is outside/,
    );
    // Allowing the folder above lets the base in.
    const base = await compileIn(
      spec,
      specText("x", "tasks.jsonl", "extends: ../base.yaml\n"),
      { allowRead: [root] },
    );
    assert.ok(base.ok);
    assert.equal(base.graph.description, "from base");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
