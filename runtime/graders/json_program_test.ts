import assert from "node:assert/strict";
import { BwrapSandbox } from "../sandbox/bwrap_sandbox.ts";
import { SMALL_LIMITS, tempWorkspace } from "../sandbox/_test_support.ts";
import { UnsafeSandbox } from "../sandbox/unsafe_sandbox.ts";
import { type JsonProgram, runJsonProgram } from "./json_program.ts";

const sandbox = await BwrapSandbox.create();
// Slots 80-84 belong to this file, so parallel test files never share a uid.
const SLOT = 80;

function py(code: string): JsonProgram {
  return { language: "python", code, source: "graders/check.py" };
}

const base = { sandbox, limits: SMALL_LIMITS, slot: SLOT };

Deno.test("runJsonProgram() sends the input on stdin and parses the one JSON value printed", async () => {
  const r = await runJsonProgram({
    ...base,
    program: py(
      "import json, sys\nd = json.load(sys.stdin)\nprint(json.dumps({'sum': d['a'] + d['b']}))\nprint()\n",
    ),
    input: { a: 2, b: 40 },
  });
  assert.deepEqual(r, { ok: true, value: { sum: 42 }, stderr: "" });
});

Deno.test("runJsonProgram() runs TypeScript programs too", async () => {
  const r = await runJsonProgram({
    ...base,
    program: {
      language: "typescript",
      source: "graders/check.ts",
      code:
        "const text = await new Response(Deno.stdin.readable).text();\nconsole.log(JSON.stringify({ n: JSON.parse(text).n + 1 }));",
    },
    input: { n: 1 },
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(r.ok && r.value, { n: 2 });
});

Deno.test("runJsonProgram() shows the workspace read-only, as a copy without symlinks", async (t) => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/solution.py`, "x = 1\n");
  await Deno.mkdir(`${ws.dir}/sub`);
  await Deno.writeTextFile(`${ws.dir}/sub/data.txt`, "hello");
  const secret = `${ws.parent}/secret.txt`;
  await Deno.writeTextFile(secret, "the expected answer");
  await Deno.chmod(secret, 0o644);
  await Deno.symlink(secret, `${ws.dir}/answer.txt`);
  await Deno.symlink(ws.parent, `${ws.dir}/up`);
  const r = await runJsonProgram({
    ...base,
    workspace: ws.dir,
    program: py([
      "import json, os, sys",
      "seen = sorted(os.path.join(d, f) for d, ds, fs in os.walk('/workspace') for f in fs + ds)",
      "try:",
      "    open('/workspace/new.txt', 'w').write('x')",
      "    wrote = True",
      "except OSError:",
      "    wrote = False",
      "skipped = json.load(sys.stdin)['workspace_skipped']",
      "print(json.dumps({'seen': seen, 'wrote': wrote, 'data': open('/workspace/sub/data.txt').read(), 'skipped': skipped}))",
    ].join("\n")),
    input: {},
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  const v = (r as { value: Record<string, unknown> }).value;
  await t.step("symlinks are not copied", () => {
    assert.deepEqual(v.seen, [
      "/workspace/solution.py",
      "/workspace/sub",
      "/workspace/sub/data.txt",
    ]);
    assert.equal(v.data, "hello");
  });
  await t.step("the program is told what was left out, and why", () => {
    assert.deepEqual(v.skipped, ["answer.txt (symlink)", "up (symlink)"]);
  });
  await t.step("the copy is read-only", () => assert.equal(v.wrote, false));
  await t.step("the agent's workspace is untouched", async () => {
    assert.equal((await Deno.lstat(`${ws.dir}/answer.txt`)).isSymlink, true);
    assert.equal(await Deno.readTextFile(secret), "the expected answer");
  });
});

Deno.test("runJsonProgram() runs Python isolated from files planted in the workspace", async () => {
  await using ws = await tempWorkspace();
  const planted = "print('{\"hijacked\": true}')\nimport os\nos._exit(0)\n";
  for (const f of ["sitecustomize.py", "usercustomize.py", "json.py"]) {
    await Deno.writeTextFile(`${ws.dir}/${f}`, planted);
  }
  await Deno.writeTextFile(`${ws.dir}/json.pth`, "import os; os._exit(0)\n");
  const r = await runJsonProgram({
    ...base,
    workspace: ws.dir,
    program: py(
      "import json, sys\nprint(json.dumps({'path': sys.path, 'file': json.__file__}))",
    ),
    input: null,
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  const v = (r as { value: { path: string[]; file: string } }).value;
  assert(
    !v.path.includes("/workspace") && !v.path.includes(""),
    v.path.join(":"),
  );
  assert.match(v.file, /^\/usr\/lib\/python3/);
});

Deno.test("runJsonProgram() fails with a value naming the program and the stderr tail", async (t) => {
  const cases: [string, string, string, RegExp][] = [
    [
      "a crash",
      "import sys\nprint('debug line', file=sys.stderr)\nraise ValueError('boom')",
      "crashed",
      /^graders\/check\.py exited with status 1 \(ValueError: boom\); stderr: .*debug line/s,
    ],
    [
      "a timeout",
      "while True: pass",
      "timed_out",
      /^graders\/check\.py ran past its wall-clock limit/,
    ],
    [
      "nothing printed",
      "import sys\nprint('oops', file=sys.stderr)",
      "invalid_json",
      /^graders\/check\.py printed nothing; it must print one JSON value; stderr: oops$/,
    ],
    [
      "two JSON values",
      "print('{}')\nprint('{}')",
      "invalid_json",
      /did not print exactly one JSON value/,
    ],
    [
      "text around the JSON",
      "print('result: {\"a\": 1}')",
      "invalid_json",
      /it printed "result: \{"a": 1\}"/,
    ],
    [
      "too much output",
      "print('[' + '1,' * 20000 + '1]')",
      "invalid_json",
      /more than the 16384 bytes kept/,
    ],
  ];
  for (const [name, code, failure, message] of cases) {
    await t.step(name, async () => {
      const r = await runJsonProgram({
        ...base,
        limits: {
          ...SMALL_LIMITS,
          wall_ms: name === "a timeout" ? 500 : 10_000,
        },
        program: py(code),
        input: {},
      });
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.failure, failure, r.message);
      assert.match(r.message, message);
    });
  }
});

Deno.test("runJsonProgram() checks the output against the schema", async () => {
  const outputSchema = {
    type: "object",
    required: ["metrics"],
    properties: {
      metrics: {
        type: "object",
        properties: { score: { type: "number", minimum: 0, maximum: 1 } },
        required: ["score"],
        additionalProperties: false,
      },
    },
  };
  const run = (printed: string) =>
    runJsonProgram({
      ...base,
      program: py(`print(${JSON.stringify(printed)})`),
      input: {},
      outputSchema,
    });
  const ok = await run('{"metrics": {"score": 0.5}}');
  assert.deepEqual(ok, {
    ok: true,
    value: { metrics: { score: 0.5 } },
    stderr: "",
  });
  const high = await run('{"metrics": {"score": 2}}');
  assert.equal(!high.ok && high.failure, "invalid_output");
  assert.match(
    !high.ok ? high.message : "",
    /at "\/metrics\/score" must be <= 1/,
  );
  const extra = await run('{"metrics": {"score": 1, "bonus": 1}}');
  assert.match(
    !extra.ok ? extra.message : "",
    /must NOT have additional properties \("bonus"\)/,
  );
});

Deno.test("runJsonProgram() reports a sandbox that cannot run as sandbox_error", async () => {
  const broken = new UnsafeSandbox({
    iUnderstandThisRunsAgentCodeWithoutIsolation: true,
    prlimitPath: "/nonexistent/prlimit",
  });
  const r = await runJsonProgram({
    sandbox: broken,
    limits: SMALL_LIMITS,
    program: py("print(1)"),
    input: {},
  });
  assert.equal(!r.ok && r.failure, "sandbox_error");
  assert.match(!r.ok ? r.message : "", /could not run graders\/check\.py/);
});

Deno.test('runJsonProgram() with no workspace (or "") shows an empty /workspace, never the working directory', async () => {
  for (const workspace of [undefined, ""]) {
    const r = await runJsonProgram({
      ...base,
      ...(workspace === undefined ? {} : { workspace }),
      program: py(
        "import json, os\nprint(json.dumps(os.listdir('/workspace')))",
      ),
      input: {},
    });
    assert.deepEqual(r, { ok: true, value: [], stderr: "" });
  }
});
