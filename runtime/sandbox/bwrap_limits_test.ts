// reference/sandbox.md §3.7 items 5, 6, 7, 10 and 11: every limit is triggered and its status checked.
import assert from "node:assert/strict";
import type { ExecLimits, ExecRequest } from "../ports.ts";
import { BwrapSandbox } from "./bwrap_sandbox.ts";
import { SMALL_LIMITS, survivors, tempWorkspace } from "./_test_support.ts";

const sandbox = await BwrapSandbox.create();
// Slots 30-39 belong to this file.
const SLOT = 30;
/** Attacks on per-jail limits: without writable cgroups they would reach the host's memory. */
const NO_CGROUPS = !sandbox.guarantees.cgroup_limits;

async function run(
  language: ExecRequest["language"],
  code: string,
  limits: Partial<ExecLimits> = {},
  slot = SLOT,
) {
  await using ws = await tempWorkspace();
  const started = performance.now();
  const result = await sandbox.exec({
    language,
    code,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, ...limits },
    slot,
  });
  const files = [];
  for await (const e of Deno.readDir(ws.dir)) {
    files.push({
      name: e.name,
      size: (await Deno.lstat(`${ws.dir}/${e.name}`)).size,
    });
  }
  return { result, files, ms: performance.now() - started };
}

Deno.test(
  "limits: a fork bomb stays bounded by its slot's nproc, leaves no survivor, and another slot still works",
  {
    ignore: Deno.uid() !== 0, // RLIMIT_NPROC binds per slot only after the uid switch
  },
  async () => {
    const bomb = run(
      "python",
      `
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as e:
    print('forks', n, e.errno, flush=True)
time.sleep(30)`,
      { nproc: 16, wall_ms: 1500 },
      SLOT,
    );
    const bashBomb = run(
      "python",
      "import os\nos.execv('/usr/bin/bash', ['bash', '-c', ':(){ :|:& };:; exec sleep 30'])",
      { nproc: 16, wall_ms: 1500 },
      SLOT + 2,
    );
    await new Promise((r) => setTimeout(r, 300));
    const other = await run(
      "python",
      `
import os
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print('other slot ok')`,
      { nproc: 16 },
      SLOT + 1,
    );
    assert.equal(other.result.status, "ok", other.result.stderr.text);
    assert.equal(other.result.stdout.text, "other slot ok\n");
    const { result } = await bomb;
    assert.equal(result.status, "wall_timeout");
    const m = /^forks (\d+) 11\n/.exec(result.stdout.text);
    assert(m !== null, result.stdout.text);
    assert(Number(m[1]) < 16, `forked ${m[1]} times with nproc 16`);
    const bash = await bashBomb;
    assert.equal(bash.result.status, "wall_timeout");
    for (const slot of [SLOT, SLOT + 1, SLOT + 2]) {
      assert.deepEqual(await survivors(200_000 + slot), []);
    }
  },
);

Deno.test("limits: a Python memory bomb ends as memory_limit", async () => {
  const { result } = await run(
    "python",
    "a = []\nwhile True:\n    a.append(bytearray(16 << 20))",
    { memory_mb: 256 },
  );
  assert.equal(result.status, "memory_limit");
  assert.equal(result.error?.type, "MemoryError");
});

Deno.test("limits: a Deno heap bomb ends as memory_limit (V8 heap limit, exit 133, or the jail's cgroup OOM kill, 137)", async () => {
  const { result } = await run(
    "typescript",
    "const a: number[][] = [];\nwhile (true) a.push(Array.from({ length: 100_000 }, (_, i) => i + 0.5));",
    { memory_mb: 128 },
  );
  assert.equal(result.status, "memory_limit", result.stderr.text);
  assert(
    result.exit_code === 133 ||
      (sandbox.guarantees.cgroup_limits && result.exit_code === 137),
    `exit ${result.exit_code}`,
  );
});

Deno.test("limits: a CPU spin ends as cpu_time_limit (SIGXCPU)", async () => {
  const { result, ms } = await run("python", "while True:\n    pass", {
    cpu_s: 1,
  });
  assert.equal(result.status, "cpu_time_limit");
  assert.equal(result.signal, "SIGXCPU");
  assert.equal(result.exit_code, 152);
  assert(ms < 5000);
});

Deno.test("limits: sleeping past wall_ms ends as wall_timeout, keeping the output so far", async () => {
  const { result, ms } = await run(
    "python",
    "import time\nprint('started', flush=True)\ntime.sleep(60)",
    { wall_ms: 500 },
  );
  assert.equal(result.status, "wall_timeout");
  assert.equal(result.stdout.text, "started\n");
  assert(ms < 1500, `took ${ms} ms`);
});

Deno.test("limits: a 200 MiB flood is drained, truncated to head + tail, and counted exactly", async () => {
  const { result, ms } = await run(
    "python",
    "import sys\nb = b'x' * (1 << 20)\nsys.stdout.buffer.write(b'<head>')\nfor _ in range(200):\n    sys.stdout.buffer.write(b)\nsys.stdout.buffer.write(b'<tail>')\nsys.stderr.write('err line\\n')",
    { kill_output_bytes: 256 << 20, output_cap_bytes: 1024 },
  );
  assert.equal(result.status, "ok");
  assert.equal(result.stdout.total_bytes, 200 * (1 << 20) + 12);
  assert.equal(result.stdout.truncated, true);
  assert(result.stdout.text.startsWith("<head>xxx"));
  assert(result.stdout.text.endsWith("xxx<tail>"));
  assert.match(
    result.stdout.text,
    new RegExp(
      `\\n\\[\\.\\.\\. ${
        200 * (1 << 20) + 12 - 1024
      } bytes omitted \\.\\.\\.\\]\\n`,
    ),
  );
  assert(result.stdout.text.length < 1200);
  assert.deepEqual(result.stderr, {
    text: "err line\n",
    total_bytes: 9,
    truncated: false,
  });
  assert(ms < 15_000, `took ${ms} ms`);
});

Deno.test("limits: output beyond kill_output_bytes kills the program as output_limit", async () => {
  const { result, ms } = await run(
    "python",
    "import sys\nwhile True:\n    sys.stdout.buffer.write(b'y' * 65536)",
    { kill_output_bytes: 1 << 20 },
  );
  assert.equal(result.status, "output_limit");
  assert(result.stdout.total_bytes > 1 << 20);
  assert(ms < 3000);
});

Deno.test("limits: invalid UTF-8 and a 10 MiB line are decoded with replacement and capped", async () => {
  const { result } = await run(
    "python",
    "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe ok\\n' + b'z' * (10 << 20) + b'\\n')",
    { output_cap_bytes: 64, kill_output_bytes: 32 << 20 },
  );
  assert.equal(result.status, "ok");
  assert(result.stdout.text.startsWith("\ufffd\ufffd ok\nzzz"));
  assert.equal(result.stdout.total_bytes, 6 + (10 << 20) + 1);
});

Deno.test("limits: an oversized file ends as file_size_limit, in Python and in Deno", async () => {
  const py = await run(
    "python",
    "open('big.bin', 'wb').write(b'x' * (3 << 20))",
    { file_size_mb: 1 },
  );
  assert.equal(py.result.status, "file_size_limit");
  assert.deepEqual(py.files, [{ name: "big.bin", size: 1 << 20 }]);
  const ts = await run(
    "typescript",
    "await Deno.writeFile('/workspace/big.bin', new Uint8Array(3 << 20));",
    { file_size_mb: 1 },
  );
  assert.equal(ts.result.status, "file_size_limit");
  assert.equal(ts.result.signal, "SIGXFSZ");
  assert.deepEqual(ts.files, [{ name: "big.bin", size: 1 << 20 }]);
});

Deno.test(
  "limits: six Python children of 200 MiB each at memory_mb 256 end as memory_limit, at most one holding its 200 MiB (the jail, not each process, is bounded)",
  { ignore: NO_CGROUPS },
  async () => {
    const { result } = await run(
      "python",
      `
import os, sys, time
pids = []
for i in range(6):
    pid = os.fork()
    if pid == 0:
        b = b'x' * (200 << 20)
        print('held', i, flush=True)
        time.sleep(2)
        os._exit(0)
    pids.append(pid)
killed = sum(1 for p in pids if os.waitpid(p, 0)[1] != 0)
print('killed', killed, flush=True)
sys.exit(1 if killed else 0)`,
      // At the limit the kernel first reclaims page cache (slow on a loaded host), then OOM-kills.
      { memory_mb: 256, wall_ms: 60_000 },
    );
    assert.equal(result.status, "memory_limit", result.stderr.text);
    assert.match(result.backend, /\+cg[12]$/);
    const held = result.stdout.text.match(/^held \d$/gm) ?? [];
    assert(held.length <= 1, result.stdout.text);
    assert.match(result.stdout.text, /^killed [5-6]$/m);
    assert.equal(result.error?.type, "MemoryLimit");
    assert.match(result.error?.message ?? "", /memory_mb \(256 MiB\)/);
  },
);

Deno.test(
  "limits: a Deno tool allocating ArrayBuffers (outside V8's heap limit) past memory_mb ends as memory_limit",
  { ignore: NO_CGROUPS },
  async () => {
    const { result } = await run(
      "typescript",
      `const held: Uint8Array[] = [];
for (let i = 0; i < 200; i++) {
  held.push(new Uint8Array(32 << 20).fill(1));
  console.log("held", (i + 1) * 32);
}`,
      { memory_mb: 256 },
    );
    assert.equal(result.status, "memory_limit", result.stderr.text);
    assert.equal(result.signal, "SIGKILL");
    const last = Number(/held (\d+)\n$/.exec(result.stdout.text)?.[1] ?? 0);
    assert(last < 256, `held ${last} MiB at memory_mb 256`);
  },
);

Deno.test(
  "limits: a fork and thread bomb is bounded by its jail's pids.max and leaves nothing behind",
  { ignore: NO_CGROUPS },
  async () => {
    const { result } = await run(
      "python",
      `
import os, threading, time
n = 0
try:
    while True:
        if n % 2:
            threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        elif os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except (OSError, RuntimeError) as e:
    print('tasks', n, type(e).__name__, flush=True)
time.sleep(30)`,
      { nproc: 12, wall_ms: 1500 },
    );
    assert.equal(result.status, "wall_timeout");
    const m = /^tasks (\d+) /m.exec(result.stdout.text);
    assert(m !== null, result.stdout.text + result.stderr.text);
    assert(Number(m[1]) < 12, `started ${m[1]} tasks with nproc 12`);
    assert.deepEqual(await survivors(200_000 + SLOT), []);
  },
);

Deno.test(
  "limits: six busy processes end as cpu_time_limit once the jail together passes cpu_s, before any one of them does",
  { ignore: NO_CGROUPS },
  async () => {
    const { result } = await run(
      "python",
      `
import os
for _ in range(5):
    if os.fork() == 0:
        break
while True:
    pass`,
      { cpu_s: 1, wall_ms: 30_000 },
    );
    assert.equal(result.status, "cpu_time_limit", result.stderr.text);
    assert.equal(result.error?.type, "CpuTimeLimit");
    assert.match(
      result.error?.message ?? "",
      /of 1 s across all its processes/,
    );
  },
);

/** Allocated KiB under `dir` (du -sk). */
async function allocatedKib(dir: string): Promise<number> {
  const out = await new Deno.Command("du", { args: ["-sk", dir] }).output();
  return Number(new TextDecoder().decode(out.stdout).split("\t")[0]);
}

Deno.test("limits: writing 5 GB at disk_mb 64 is killed as file_size_limit soon after the quota", async () => {
  await using ws = await tempWorkspace();
  const result = await sandbox.exec({
    language: "python",
    code: `
b = b'x' * (4 << 20)
for i in range(1280):
    with open(f'f{i}.bin', 'wb') as f:
        f.write(b)`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, disk_mb: 64 },
    slot: SLOT,
  });
  const kib = await allocatedKib(ws.dir);
  assert.equal(result.status, "file_size_limit", result.stderr.text);
  assert.equal(result.error?.type, "WorkspaceQuotaExceeded");
  assert.match(
    result.error?.message ?? "",
    /^workspace quota exceeded: \d[\d,]* MiB of 64 MiB$/,
  );
  assert(kib < 256 * 1024, `the workspace holds ${kib} KiB`);
});

Deno.test("limits: 1e5 tiny files at max_files 1000 are killed as file_size_limit", async () => {
  await using ws = await tempWorkspace();
  const result = await sandbox.exec({
    language: "python",
    code: `
import os
os.mkdir('d')
for i in range(100_000):
    open(f'd/{i}', 'w').close()`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, max_files: 1000 },
    slot: SLOT,
  });
  let n = 0;
  for await (const _ of Deno.readDir(`${ws.dir}/d`)) n++;
  assert.equal(result.status, "file_size_limit", result.stderr.text);
  assert.match(
    result.error?.message ?? "",
    /^workspace quota exceeded: more than 1,000 entries \(max_files 1,000\)$/,
  );
  assert(n < 50_000, `${n} files were created`);
});

Deno.test("limits: a 10 GiB sparse file counts by its allocated blocks; 80 MiB of real data does not fit disk_mb 64", async () => {
  await using ws = await tempWorkspace();
  const sparse = await sandbox.exec({
    language: "python",
    code: `
with open('sparse.bin', 'wb') as f:
    f.truncate(10 << 30)
    f.write(b'x' * (1 << 20))`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, disk_mb: 64, file_size_mb: 16384 },
    slot: SLOT,
  });
  assert.equal(sparse.status, "ok", sparse.stderr.text);
  assert.equal((await Deno.stat(`${ws.dir}/sparse.bin`)).size, 10 * 2 ** 30);
  const dense = await sandbox.exec({
    language: "python",
    code: `
import time
with open('sparse.bin', 'r+b') as f:
    for i in range(80):
        f.seek(i << 27)
        f.write(b'y' * (1 << 20))
        f.flush()
time.sleep(1)`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, disk_mb: 64, file_size_mb: 16384 },
    slot: SLOT,
  });
  assert.equal(dense.status, "file_size_limit", dense.stderr.text);
});

Deno.test("limits: without cgroups the jail falls back to rlimits, says so in its backend, and still enforces the workspace quota", async () => {
  const fallback = new BwrapSandbox(sandbox.options, {
    ...sandbox.guarantees,
    cgroup_limits: false,
    limits: "rlimit",
  });
  assert.equal(fallback.backend, "bwrap-v1+rlimit");
  await using ws = await tempWorkspace();
  const result = await fallback.exec({
    language: "python",
    code: "open('big.bin', 'wb').write(b'x' * (8 << 20))",
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, disk_mb: 4, file_size_mb: 16 },
    slot: SLOT,
  });
  assert.equal(result.backend, "bwrap-v1+rlimit");
  assert.equal(result.status, "file_size_limit", result.stderr.text);
  assert.match(result.error?.message ?? "", /^workspace quota exceeded: /);
});
