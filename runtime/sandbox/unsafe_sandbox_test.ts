import assert from "node:assert/strict";
import { UnsafeSandbox, type UnsafeSandboxOptions } from "./unsafe_sandbox.ts";
import { SMALL_LIMITS, tempWorkspace } from "./_test_support.ts";

const sandbox = new UnsafeSandbox({
  iUnderstandThisRunsAgentCodeWithoutIsolation: true,
});

Deno.test("UnsafeSandbox requires the explicit opt-in", () => {
  assert.throws(
    () => new UnsafeSandbox({} as unknown as UnsafeSandboxOptions),
    /without isolation.*iUnderstandThisRunsAgentCodeWithoutIsolation: true/,
  );
  assert.equal(sandbox.backend, "unsafe-none-v1");
});

Deno.test("UnsafeSandbox runs Python in the workspace with the shared status logic", async () => {
  await using ws = await tempWorkspace();
  const ok = await sandbox.exec({
    language: "python",
    code: "import os\nopen('a.txt', 'w').write('x')\nprint(os.getcwd())",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
  });
  assert.equal(ok.status, "ok", ok.stderr.text);
  assert.equal(ok.stdout.text, `${ws.dir}\n`);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "x");
  assert.match(ok.argv_hash, /^[0-9a-f]{64}$/);
  const cpu = await sandbox.exec({
    language: "python",
    code: "while True: pass",
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, cpu_s: 1 },
  });
  assert.equal(cpu.status, "cpu_time_limit");
});

Deno.test("UnsafeSandbox kills the program's process group on wall_timeout", async () => {
  await using ws = await tempWorkspace();
  const started = performance.now();
  const r = await sandbox.exec({
    language: "python",
    code: [
      "import os, subprocess, time",
      "p = subprocess.Popen(['/usr/bin/sleep', '60'])",
      "open('child.pid', 'w').write(str(p.pid))",
      "time.sleep(60)",
    ].join("\n"),
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, wall_ms: 500 },
  });
  assert.equal(r.status, "wall_timeout");
  assert(performance.now() - started < 2000);
  const pid = Number(await Deno.readTextFile(`${ws.dir}/child.pid`));
  await new Promise((res) => setTimeout(res, 100));
  const alive = await Deno.readTextFile(`/proc/${pid}/status`).then(
    (s) => !/^State:\s+Z/m.test(s),
    () => false,
  );
  assert.equal(alive, false);
});

Deno.test("UnsafeSandbox runs TypeScript scoped to the workspace", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "typescript",
    code: `await Deno.writeTextFile(${
      JSON.stringify(`${ws.dir}/t.txt`)
    }, "ok");\nawait Deno.readTextFile("/etc/hostname");`,
    workspace: ws.dir,
    limits: SMALL_LIMITS,
  });
  assert.equal(r.status, "error");
  assert.equal(r.error?.type, "NotCapable");
  assert.equal(await Deno.readTextFile(`${ws.dir}/t.txt`), "ok");
});

Deno.test("UnsafeSandbox refuses a request with hide_paths rather than ignoring it", async () => {
  await using ws = await tempWorkspace();
  await assert.rejects(
    sandbox.exec({
      language: "python",
      code: "print(1)",
      workspace: ws.dir,
      limits: SMALL_LIMITS,
      hide_paths: ["/usr/share/secret"],
    }),
    (e: Error) =>
      e instanceof TypeError && !e.message.includes("\n") &&
      /^Cannot run with hide_paths \[\/usr\/share\/secret\] in UnsafeSandbox: .*; use BwrapSandbox/
        .test(e.message),
  );
  const ok = await sandbox.exec({
    language: "python",
    code: "print(1)",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    hide_paths: [],
  });
  assert.equal(ok.status, "ok", ok.stderr.text);
});

Deno.test("UnsafeSandbox feeds stdin to the program", async () => {
  const workspace = await Deno.makeTempDir();
  try {
    const r = await new UnsafeSandbox({
      iUnderstandThisRunsAgentCodeWithoutIsolation: true,
    }).exec({
      language: "python",
      code: "import sys\nprint(sys.stdin.read()[::-1])",
      workspace,
      limits: {
        wall_ms: 10_000,
        cpu_s: 10,
        memory_mb: 512,
        output_cap_bytes: 4096,
        kill_output_bytes: 1 << 20,
        file_size_mb: 1,
        nproc: 256,
      },
      stdin: new TextEncoder().encode("abc"),
    });
    assert.equal(r.stdout.text, "cba\n");
  } finally {
    await Deno.remove(workspace, { recursive: true });
  }
});
