// Issue 13 item 1: host reads of workspace content cannot be raced into a host file, a FIFO or /dev/zero.
import assert from "node:assert/strict";
import type { GraphRole } from "../../dsl/mod.ts";
import { checkContract } from "../check_contract.ts";
import { readWorkspaceFile } from "./read_workspace_file.ts";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-read-test-" });
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Fails the test instead of hanging when a host read blocks. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`blocked for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function role(path: string): GraphRole {
  return {
    produces: [{ path, required: true, schema: { type: "object" } }],
  } as unknown as GraphRole;
}

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert(r.success);
}

Deno.test("readWorkspaceFile() refuses a FIFO without blocking, and links to /dev/zero and host files", async () => {
  await using t = await tempDir();
  await mkfifo(`${t.dir}/fifo`);
  await Deno.symlink("/dev/zero", `${t.dir}/zero`);
  await Deno.symlink("/etc/hostname", `${t.dir}/host`);
  await Deno.mkdir(`${t.dir}/d`);
  await Deno.symlink("/etc", `${t.dir}/etc`);
  const reasons: Record<string, string> = {};
  for (const p of ["fifo", "zero", "host", "etc/hostname", "d/missing"]) {
    const r = await within(
      2000,
      readWorkspaceFile(t.dir, p, { maxBytes: 1 << 20 }),
    );
    reasons[p] = r.ok ? "read" : r.reason;
  }
  assert.deepEqual(reasons, {
    fifo: "not a regular file",
    zero: "not a regular file",
    host: "not a regular file",
    "etc/hostname": "a path component is not a directory",
    "d/missing": "cannot open: ENOENT",
  });
});

Deno.test("readWorkspaceFile() reads at most its cap, checked on the handle", async () => {
  await using t = await tempDir();
  await Deno.writeFile(`${t.dir}/big`, new Uint8Array(4096));
  const r = await readWorkspaceFile(t.dir, "big", { maxBytes: 4095 });
  assert.deepEqual(r, { ok: false, reason: "larger than 4095 bytes" });
  const ok = await readWorkspaceFile(t.dir, "big", { maxBytes: 4096 });
  assert(ok.ok && ok.bytes.length === 4096);
});

// The attack of issue 13: a process swaps the contract file between a regular file, a symlink to a
// root-only host file, a symlink to /dev/zero, a FIFO, and a directory link above it, while the host
// checks the contract again and again. Before, the host file's bytes reached the problems
// ("not JSON: Unexpected token 'H', "HOSTCANARY"…"), /dev/zero passed the size cap, and a FIFO hung.
Deno.test("checkContract() cannot be raced into a host file, /dev/zero or a FIFO", async () => {
  await using t = await tempDir();
  await using host = await tempDir();
  await Deno.writeTextFile(`${host.dir}/secret`, "HOSTCANARY secret\n", {
    mode: 0o600,
  });
  // Reached through "sub" when "sub" is swapped for a link to the host folder.
  await Deno.writeTextFile(`${host.dir}/report.json`, "HOSTCANARY dir\n", {
    mode: 0o600,
  });
  await Deno.mkdir(`${t.dir}/sub`);
  await Deno.writeTextFile(`${t.dir}/report.json`, "{}");
  await Deno.writeTextFile(`${t.dir}/sub/report.json`, "{}");
  const racer = new Deno.Command("python3", {
    stderr: "piped",
    args: [
      "-c",
      `
import os, sys, time
ws, secret = sys.argv[1], sys.argv[2]
os.chdir(ws)
end = time.time() + 30
def put(name, make):
    tmp = name + '.tmp'
    try: os.unlink(tmp)
    except FileNotFoundError: pass
    make(tmp)
    os.replace(tmp, name)
def regular(p):
    with open(p, 'w') as f: f.write('{"ok": true}')
# Mostly the file/link swap the old check lost (lstat, then a read that followed the link).
leak = [
    lambda: put('report.json', regular),
    lambda: put('report.json', lambda p: os.symlink(secret, p)),
]
rare = [
    lambda: put('report.json', lambda p: os.symlink('/dev/zero', p)),
    lambda: put('report.json', regular),
    lambda: put('report.json', os.mkfifo),
    lambda: put('sub/report.json', regular),
    lambda: (os.rename('sub', 'sub.real'), os.symlink(os.path.dirname(secret), 'sub')),
    lambda: (os.unlink('sub'), os.rename('sub.real', 'sub')),
]
i = 0
while time.time() < end:
    i += 1
    for step in leak * 10 + (rare if i % 2 else []):
        try: step()
        except OSError as e: print(e, file=sys.stderr)
`,
      t.dir,
      `${host.dir}/secret`,
    ],
  }).spawn();
  try {
    const seen = new Set<string>();
    const started = Date.now();
    let rounds = 0;
    // Until both the file and a swapped-in entry were met (the racer may start slowly under load).
    while (
      Date.now() - started < 10_000 &&
      (Date.now() - started < 2000 || rounds < 20 || !seen.has("valid") ||
        !seen.has("not a regular file"))
    ) {
      for (const path of ["report.json", "sub/report.json"]) {
        const c = await within(
          2000,
          checkContract(role(path), t.dir, [path], []),
        );
        const problems = c.invalid.flatMap((i) => i.problems);
        for (const p of problems) {
          assert(!p.includes("HOSTCANARY"), `host bytes leaked: ${p}`);
          assert(!p.includes("larger than"), `read /dev/zero: ${p}`);
          seen.add(p.replace(/: .*/, ""));
        }
        if (problems.length === 0) seen.add("valid");
      }
      rounds++;
    }
    // The race was really run: the checker saw the regular file and refused the swapped-in entries.
    assert(seen.has("valid"), [...seen].join(", ") + ` rounds ${rounds}`);
    assert(
      seen.has("not a regular file"),
      [...seen].join(", ") + ` rounds ${rounds}`,
    );
  } finally {
    racer.kill();
    const out = await racer.output();
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(err, "", `the racer failed: ${err.slice(0, 500)}`);
  }
});
