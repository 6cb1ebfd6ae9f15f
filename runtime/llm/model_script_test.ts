import assert from "node:assert/strict";
import { join } from "node:path";
import {
  loadModelScript,
  ModelScriptError,
  parseModelScript,
} from "./model_script.ts";

function issuesOf(text: string) {
  try {
    parseModelScript(text, "demo.yaml");
  } catch (error) {
    assert.ok(error instanceof ModelScriptError);
    return error.issues.map((i) => ({
      path: i.path,
      line: i.line,
      column: i.column,
    }));
  }
  assert.fail("expected a ModelScriptError");
}

Deno.test("parseModelScript() reads YAML with defaults", () => {
  const script = parseModelScript(
    [
      "roles:",
      "  solver:",
      "    - First",
      "    - text: Second",
      "      tool_calls: [{ name: python, arguments: { code: 'print(1)' } }]",
      "tasks:",
      "  t1: { solver: [Override] }",
    ].join("\n"),
    "demo.yaml",
  );
  assert.deepEqual(script, {
    after_last: "repeat_last",
    roles: {
      solver: ["First", {
        text: "Second",
        tool_calls: [{ name: "python", arguments: { code: "print(1)" } }],
      }],
    },
    tasks: { t1: { solver: ["Override"] } },
  });
});

Deno.test("parseModelScript() reads JSON", () => {
  const script = parseModelScript(
    '{"after_last": "cycle", "default": ["x", {"text": "y"}]}',
    "demo.json",
  );
  assert.equal(script.after_last, "cycle");
  assert.deepEqual(script.default, ["x", { text: "y" }]);
});

Deno.test("parseModelScript() reports each problem at its line and column", () => {
  assert.deepEqual(issuesOf("roles:\n  solver: []\n"), [
    { path: ["roles", "solver"], line: 2, column: 11 },
  ]);
  assert.deepEqual(issuesOf("roles:\n  solver:\n    - ok\n    - 42\n"), [
    { path: ["roles", "solver", 1], line: 4, column: 7 },
  ]);
  assert.deepEqual(issuesOf("roles:\n  solver:\n    - txt: hi\n"), [
    { path: ["roles", "solver", 0], line: 3, column: 7 },
  ]);
  assert.deepEqual(
    issuesOf(
      "roles:\n  a:\n    - text: hi\n      tool_calls:\n        - arguments: {}\n",
    ),
    [{ path: ["roles", "a", 0, "tool_calls", 0, "name"], line: 5, column: 11 }],
  );
  assert.deepEqual(issuesOf("roles:\n  problem-solver: [a]\n"), [
    { path: ["roles"], line: 2, column: 3 },
  ]);
  assert.deepEqual(issuesOf("after_last: loop\nroles: { a: [x] }\n"), [
    { path: ["after_last"], line: 1, column: 13 },
  ]);
  assert.deepEqual(issuesOf("role:\n  solver: [a]\n"), [
    { path: [], line: 1, column: 1 },
  ]);
  assert.deepEqual(issuesOf("roles:\n  a: [x\n"), [
    { path: [], line: 3, column: 1 },
  ]);
});

Deno.test("ModelScriptError names the file, position, path and fix", () => {
  assert.throws(
    () => parseModelScript("roles:\n  solver:\n    - txt: hi\n", "demo.yaml"),
    {
      name: "ModelScriptError",
      message: [
        'Cannot load model script "demo.yaml"',
        'demo.yaml:3:7: roles.solver[0]: unknown key "txt"',
        "  = hint: allowed keys here: text, reasoning, tool_calls, finish_reason",
      ].join("\n"),
    },
  );
  assert.throws(() => parseModelScript("roles: [a, b]\n", "demo.yaml"), {
    message:
      /demo\.yaml:1:8: roles: expected a map, found a list\n {2}= hint: a script looks like/,
  });
  assert.throws(() => parseModelScript("after_last: cycle\n", "demo.yaml"), {
    message: /demo\.yaml:1:1: the script has no replies/,
  });
  assert.throws(
    () =>
      parseModelScript("roles: { a: [x] }\nextra: 1\nalso: 2\n", "demo.yaml"),
    { message: /^Cannot load model script "demo\.yaml" \(2 problems\)\n/ },
  );
});

Deno.test("loadModelScript() reads a file and reports a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "replies.json");
    await Deno.writeTextFile(file, JSON.stringify({ roles: { a: ["x"] } }));
    assert.deepEqual((await loadModelScript(file)).roles, { a: ["x"] });
    await assert.rejects(() => loadModelScript(join(dir, "nope.yaml")), {
      name: "ModelScriptError",
      message:
        /nope\.yaml: the file does not exist\n {2}= hint: check the model's script path: it is relative to the spec file$/,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
