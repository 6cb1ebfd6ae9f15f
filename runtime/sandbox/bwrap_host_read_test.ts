// Issue 13 items 1 and 5, against the real bubblewrap jail: what agent code makes in the workspace
// cannot turn a host-side read into a read of a host file, a hang on a FIFO, a read past a cap, or a
// failed episode.
import assert from "node:assert/strict";
import type { GraphRole } from "../../dsl/mod.ts";
import { checkContract } from "../check_contract.ts";
import type { RunStore } from "../run_store.ts";
import { createWorkspace } from "../workspace_tracker.ts";
import { collectChanges } from "../workspace/collect_changes.ts";
import { snapshot } from "../workspace/snapshot.ts";
import { BwrapSandbox } from "./bwrap_sandbox.ts";
import { SMALL_LIMITS, tempWorkspace } from "./_test_support.ts";

const sandbox = await BwrapSandbox.create({ tmpMb: 8, shmMb: 4 });
// Slots 70-79 belong to this file.
const SLOT = 70;

function py(workspace: string, code: string, slot = SLOT) {
  return sandbox.exec({
    language: "python",
    code,
    workspace,
    limits: SMALL_LIMITS,
    slot,
  });
}

/** A run store that keeps nothing: these tests look at reads, not blobs. */
const NO_STORE = {
  putBlob: () => Promise.resolve("0".repeat(64)),
  hasBlob: () => Promise.resolve(true),
  putStream: async (s: ReadableStream<Uint8Array>) => {
    await s.cancel();
    return "0".repeat(64);
  },
} as unknown as RunStore;

const REPORT_ROLE = {
  produces: [{
    path: "report.json",
    required: true,
    schema: { type: "object" },
  }],
} as unknown as GraphRole;

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

// The attack of issue 13: one role's jail swaps report.json between a regular file, a link to a
// root-only host file, a link to /dev/zero and a FIFO, while the other role's contract is checked.
Deno.test("host read: a jail racing report.json leaks no host file, passes no cap, hangs nothing", async () => {
  await using ws = await tempWorkspace();
  const secret = `${ws.parent}/secret.json`;
  await Deno.writeTextFile(secret, '"HOSTCANARY"', { mode: 0o600 });
  const workspace = await createWorkspace(ws.dir, [], NO_STORE);
  let jailEnded = false;
  const racing = workspace.track(async () => {
    const r = await py(
      ws.dir,
      `
import os, time
end = time.time() + 8
def put(make):
    try: os.unlink('t')
    except FileNotFoundError: pass
    make('t'); os.replace('t', 'report.json')
def regular(p):
    with open(p, 'w') as f: f.write('{}')
n = 0
while time.time() < end and not os.path.exists('stop'):
    put(regular); put(lambda p: os.symlink(${JSON.stringify(secret)}, p))
    put(regular); put(lambda p: os.symlink('/dev/zero', p))
    put(regular); put(os.mkfifo)
    n += 1
print(n)`,
    );
    jailEnded = true;
    return r;
  });
  // Without the lock (the reader alone must hold), then as run_role.ts checks: holding the workspace.
  const seen = new Set<string>();
  const started = Date.now();
  let early = 0;
  // Until the checker has met the swapped-in link and the regular file (the jail may start slowly).
  while (
    !jailEnded && Date.now() - started < 8000 &&
    !(seen.has("valid") && seen.has("not a regular file") && early > 10)
  ) {
    const c = await within(
      2000,
      checkContract(REPORT_ROLE, ws.dir, ["report.json"], []),
    );
    for (const p of c.invalid.flatMap((i) => i.problems)) {
      assert(!p.includes("HOSTCANARY"), p);
      assert(!p.includes("larger than"), p);
      seen.add(p.replace(/: .*/, ""));
    }
    if (c.invalid.length === 0) seen.add("valid");
    early++;
    // A refused open is all synchronous: let the jail's start run between checks.
    await new Promise((r) => setTimeout(r, 1));
  }
  await Deno.writeTextFile(`${ws.dir}/stop`, "");
  const locked = workspace.exclusive(async () => {
    assert(
      jailEnded,
      "the contract check ran while the jail held the workspace",
    );
    return await checkContract(
      REPORT_ROLE,
      ws.dir,
      await workspace.files(),
      [],
    );
  });
  const { result, changes } = await racing;
  assert.equal(result.status, "ok", result.stderr.text);
  assert(Number(result.stdout.text) > 10, result.stdout.text);
  const c = await within(2000, locked);
  assert.equal(JSON.stringify(c).includes("HOSTCANARY"), false);
  assert(seen.has("not a regular file"), [...seen].join(", "));
  // What the jail left is recorded: a regular report.json, or a removed special file.
  for (const f of changes) {
    assert(f.rejected === undefined || f.rejected === "not a regular file");
  }
});

Deno.test("host read: non-UTF-8 names, paths past PATH_MAX and floods are removed and reported", async () => {
  await using ws = await tempWorkspace();
  const before = await snapshot(ws.dir);
  const r = await py(
    ws.dir,
    `
import os
os.mkfifo(b'fifo\\xff'); os.symlink('/etc/shadow', b'link\\xfe')
os.mkdir(b'd\\xfd'); os.mkfifo(b'd\\xfd/inner')
top = os.open('.', os.O_RDONLY)
for i in range(30):
    os.mkdir('n' * 250); os.chdir('n' * 250)
os.mkfifo('bottom')
os.fchdir(top)
os.mkdir('zflood')
for i in range(300): open('zflood/%03d' % i, 'w').close()
open('result.txt', 'w').write('done')
print('ok')`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const { changes, snapshot: next } = await collectChanges(ws.dir, before, {
    maxEntries: 100,
  });
  const reasons = new Map<string, number>();
  for (const c of changes) {
    const key = (c.rejected ?? "kept").replace(/\d+/g, "N");
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const past = reasons.get("removed: past the cap of N entries") ?? 0;
  assert(past > 50, `${past}`);
  assert.deepEqual(Object.fromEntries(reasons), {
    kept: 100,
    "removed: name is not UTF-N": 3,
    "removed: path longer than N bytes": 1,
    "removed: past the cap of N entries": past,
    "removed: N more entries that could not be recorded, not listed one by one":
      1,
  });
  assert.equal(next.entries.size, 100);
  // Nothing unrecorded is left on the disk for a later turn.
  const left = await new Deno.Command("python3", {
    args: [
      "-c",
      "import os; print(sum(len(d) + len(f) for _, d, f in os.walk(b'.')))",
    ],
    cwd: ws.dir,
  }).output();
  assert.equal(new TextDecoder().decode(left.stdout).trim(), "100");
});
