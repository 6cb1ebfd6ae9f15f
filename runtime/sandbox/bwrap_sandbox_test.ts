import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { BwrapSandbox } from "./bwrap_sandbox.ts";
import { SandboxError } from "./sandbox_error.ts";
import { lastJson, SMALL_LIMITS, tempWorkspace } from "./_test_support.ts";

// Fails (never skips) when bubblewrap is missing: the error names "apt-get install -y bubblewrap".
const sandbox = await BwrapSandbox.create();
// Slots 10-19 belong to this file, so parallel test files never share a uid.
const SLOT = 10;

Deno.test("BwrapSandbox.create() fails closed with the install hint when bwrap is missing", async () => {
  await assert.rejects(
    BwrapSandbox.create({ bwrapPath: "/nonexistent/bwrap" }),
    (e: unknown) => {
      assert(e instanceof SandboxError);
      assert.match(e.message, /apt-get install -y bubblewrap/);
      assert.deepEqual(e.command, ["/nonexistent/bwrap"]);
      return true;
    },
  );
});

Deno.test("BwrapSandbox.create() reports the guarantees of this host", () => {
  assert.match(sandbox.guarantees.bwrap_version, /^bubblewrap \d/);
  assert.equal(sandbox.guarantees.uid_switch, Deno.uid() === 0);
  assert.match(sandbox.backend, /^bwrap-v1(\+(cg1|cg2|rlimit))?$/);
});

Deno.test("exec() runs Python as the slot's uid in /workspace with a fixed environment", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "python",
    code: [
      "import json, os",
      "open('out.txt', 'w').write('hi')",
      "print(json.dumps({'uid': os.getuid(), 'cwd': os.getcwd(), 'env': sorted(os.environ)}))",
    ].join("\n"),
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "ok", r.stderr.text);
  assert.equal(r.exit_code, 0);
  const seen = lastJson(r.stdout.text);
  if (Deno.uid() === 0) assert.equal(seen.uid, 200_000 + SLOT);
  assert.equal(seen.cwd, "/workspace");
  assert.deepEqual(seen.env, [
    "HOME",
    "LANG",
    "MPLBACKEND",
    "MPLCONFIGDIR",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PATH",
    "PWD",
    "PYTHONDONTWRITEBYTECODE",
    "TMPDIR",
  ]);
  assert.equal(await Deno.readTextFile(`${ws.dir}/out.txt`), "hi");
});

Deno.test("exec() parses the last Python exception into error", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "python",
    code: [
      "try:",
      "    {}['k']",
      "except KeyError as e:",
      "    raise ValueError('bad column: x') from e",
    ].join("\n"),
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "error");
  assert.equal(r.exit_code, 1);
  assert.deepEqual(r.error, { type: "ValueError", message: "bad column: x" });
});

Deno.test("exec() keeps a pandas pickle in the workspace for the next execution, in another slot", async () => {
  await using ws = await tempWorkspace();
  const write = await sandbox.exec({
    language: "python",
    code: [
      "import pandas as pd",
      "pd.DataFrame({'a': [1, 2, 3]}).to_pickle('df.pkl')",
    ].join("\n"),
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(write.status, "ok", write.stderr.text);
  const read = await sandbox.exec({
    language: "python",
    code: [
      "import pandas as pd",
      "df = pd.read_pickle('df.pkl')",
      "df['b'] = df['a'] * 2",
      "df.to_pickle('df.pkl')",
      "print(int(df['b'].sum()))",
    ].join("\n"),
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT + 1,
  });
  assert.equal(read.status, "ok", read.stderr.text);
  assert.equal(read.stdout.text, "12\n");
});

Deno.test("exec() runs a TypeScript program that writes a file in the workspace", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "typescript",
    code: [
      "const rows: string[] = ['x,y', '1,2'];",
      "await Deno.writeTextFile('/workspace/out.csv', rows.join('\\n'));",
      "console.log(Deno.cwd());",
    ].join("\n"),
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "ok", r.stderr.text);
  assert.equal(r.stdout.text, "/workspace\n");
  assert.equal(await Deno.readTextFile(`${ws.dir}/out.csv`), "x,y\n1,2");
});

Deno.test("exec() parses an uncaught TypeScript error into error", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "typescript",
    code: "await Promise.resolve();\nthrow new RangeError('too many rows');",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "error");
  assert.deepEqual(r.error, { type: "RangeError", message: "too many rows" });
});

Deno.test("exec() gives the same argv_hash for every workspace and slot, another for other limits", async () => {
  await using a = await tempWorkspace();
  await using b = await tempWorkspace();
  const run = (dir: string, slot: number, cpu_s: number) =>
    sandbox.exec({
      language: "python",
      code: "",
      workspace: dir,
      limits: { ...SMALL_LIMITS, cpu_s },
      slot,
    });
  const [x, y, z] = [
    await run(a.dir, SLOT, 5),
    await run(b.dir, SLOT + 1, 5),
    await run(a.dir, SLOT, 6),
  ];
  assert.match(x.argv_hash, /^[0-9a-f]{64}$/);
  assert.equal(x.argv_hash, y.argv_hash);
  assert.notEqual(x.argv_hash, z.argv_hash);
});

Deno.test("exec() kills the jail when the request is aborted", async () => {
  await using ws = await tempWorkspace();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 300);
  const started = performance.now();
  const r = await sandbox.exec({
    language: "python",
    code: "import time\ntime.sleep(60)",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
    signal: controller.signal,
  });
  clearTimeout(timer);
  assert.equal(r.status, "killed");
  assert.equal(r.signal, "SIGKILL");
  assert(performance.now() - started < 3000);
});

Deno.test(
  "exec() refuses a workspace that the slot's uid cannot reach, naming the fix",
  {
    ignore: Deno.uid() !== 0,
  },
  async () => {
    const hidden = await Deno.makeTempDir(); // 0700, root-owned
    try {
      await Deno.mkdir(`${hidden}/ws`);
      await assert.rejects(
        sandbox.exec({
          language: "python",
          code: "",
          workspace: `${hidden}/ws`,
          limits: SMALL_LIMITS,
          slot: SLOT,
        }),
        (e: unknown) => {
          assert(e instanceof SandboxError);
          assert.match(
            e.message,
            /cannot traverse .*\(mode 0700\).*chmod o\+x/,
          );
          return true;
        },
      );
    } finally {
      await Deno.remove(hidden, { recursive: true });
    }
  },
);

Deno.test("exec() reports a jail that cannot start its program as sandbox_error", async () => {
  await using ws = await tempWorkspace();
  const broken = await BwrapSandbox.create({
    pythonPath: "/usr/bin/no-such-python",
  });
  const r = await broken.exec({
    language: "python",
    code: "print(1)",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(r.status, "sandbox_error");
  assert.equal(r.error?.type, "SandboxError");
  assert.match(r.error?.message ?? "", /^bwrap: .*no-such-python/);
});

Deno.test("exec() rejects limits that are not positive integers", async () => {
  await using ws = await tempWorkspace();
  await assert.rejects(
    sandbox.exec({
      language: "python",
      code: "",
      workspace: ws.dir,
      limits: { ...SMALL_LIMITS, wall_ms: 0 },
    }),
    RangeError,
  );
});

Deno.test({
  name:
    "exec() lets matplotlib (Debian's, configured in /etc) draw into the workspace",
  ignore: !existsSync("/usr/lib/python3/dist-packages/matplotlib"),
  fn: async () => {
    await using ws = await tempWorkspace();
    const r = await sandbox.exec({
      language: "python",
      code:
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('plot.png')\nprint('drawn')",
      workspace: ws.dir,
      limits: { ...SMALL_LIMITS, memory_mb: 1024, wall_ms: 60_000 },
      slot: SLOT,
    });
    assert.equal(r.status, "ok", r.stderr.text);
    assert.equal(r.stdout.text, "drawn\n");
    assert.equal(r.stderr.text, "");
    assert.ok((await Deno.stat(`${ws.dir}/plot.png`)).size > 0);
  },
});

Deno.test("exec() feeds stdin and can mount the workspace read-only", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/in.txt`, "seen");
  const code = [
    "import json, sys",
    "data = sys.stdin.read()",
    "try:",
    "    open('/workspace/w.txt', 'w').write('x')",
    "    wrote = True",
    "except OSError:",
    "    wrote = False",
    "print(json.dumps({'stdin': data, 'wrote': wrote, 'read': open('in.txt').read()}))",
  ].join("\n");
  const stdin = new TextEncoder().encode('{"secret": 1}');
  const ro = await sandbox.exec({
    language: "python",
    code,
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
    stdin,
    readonly_workspace: true,
  });
  assert.equal(ro.status, "ok", ro.stderr.text);
  assert.deepEqual(lastJson(ro.stdout.text), {
    stdin: '{"secret": 1}',
    wrote: false,
    read: "seen",
  });
  const rw = await sandbox.exec({
    language: "python",
    code,
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(rw.status, "ok", rw.stderr.text);
  assert.deepEqual(lastJson(rw.stdout.text), {
    stdin: "",
    wrote: true,
    read: "seen",
  });
});

Deno.test("exec() is not blocked by a program that never reads a large stdin", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "python",
    code: "print('done')",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
    stdin: new Uint8Array(4 << 20),
  });
  assert.equal(r.status, "ok", r.stderr.text);
  assert.equal(r.stdout.text, "done\n");
});
