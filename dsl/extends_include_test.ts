import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "./mod.ts";
import { writeFiles } from "../tests/fixtures/compile_yaml.ts";

const BASE = `version: 1
name: parent
models: { m: { model: x } }
roles:
  - { id: a, description: d, model: m, prompts: { user: hi } }
dataset: { splits: { eval: "https://x/y" }, fields: { inputs: {} } }
coach:
  model: m
  rubric: file://strict.yaml
`;

Deno.test("extends: a child's file:// rubric replaces the parent's whole, while an inline mapping still overlays it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_extends_include_" });
  try {
    await writeFiles(dir, {
      "parent.yaml": BASE,
      "strict.yaml":
        "name: strict\ndefault_score: 3\nchecks: [{ id: crash, when: tool_error, cap: 1 }]\n",
      "lenient.yaml": "name: lenient\ndefault_score: 9\n",
      "child.yaml":
        "extends: parent.yaml\nname: child\ncoach: { rubric: file://lenient.yaml }\n",
      "tweak.yaml":
        "extends: parent.yaml\nname: tweak\ncoach: { rubric: { default_score: 4 } }\n",
    });
    const child = compileFile(join(dir, "child.yaml"));
    assert.ok(child.ok, JSON.stringify(!child.ok && child.diagnostics));
    const [rubric] = Object.values(child.graph.coach!.rubrics);
    assert.equal(rubric!.name, "lenient");
    assert.equal(rubric!.default_score, 9);
    assert.deepEqual(rubric!.checks, [], "the parent's check did not survive");

    const tweak = compileFile(join(dir, "tweak.yaml"));
    assert.ok(tweak.ok, JSON.stringify(!tweak.ok && tweak.diagnostics));
    const [tweaked] = Object.values(tweak.graph.coach!.rubrics);
    assert.equal(tweaked!.name, "strict");
    assert.equal(tweaked!.default_score, 4);
    assert.equal(tweaked!.checks.length, 1, "an inline overlay keeps the rest");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
