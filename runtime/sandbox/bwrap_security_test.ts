// reference/sandbox.md §3.7 items 1-4, 8 and 13, against the real bubblewrap jail.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { collectChanges } from "../workspace/collect_changes.ts";
import { snapshot } from "../workspace/snapshot.ts";
import { BwrapSandbox } from "./bwrap_sandbox.ts";
import {
  lastJson,
  SMALL_LIMITS,
  survivors,
  tempWorkspace,
} from "./_test_support.ts";

const sandbox = await BwrapSandbox.create({ tmpMb: 8, shmMb: 4 });
// Slots 20-29 belong to this file.
const SLOT = 20;
const UID = 200_000 + SLOT;
const REPO = fileURLToPath(new URL("../..", import.meta.url));

function py(workspace: string, code: string, limits = SMALL_LIMITS) {
  return sandbox.exec({
    language: "python",
    code,
    workspace,
    limits,
    slot: SLOT,
  });
}

Deno.test("jail: host files, /root, the repository, /sys and host processes are out of view", async () => {
  await using ws = await tempWorkspace();
  const r = await py(
    ws.dir,
    `
import json, os
def readable(p):
    try:
        open(p, 'rb').read(1)
        return True
    except OSError:
        return False
pids = [d for d in os.listdir('/proc') if d.isdigit()]
print(json.dumps({
    'shadow': readable('/etc/shadow'),
    'root': os.path.exists('/root'),
    'repo': os.path.exists(${JSON.stringify(REPO)}),
    'host_tmp_ws': os.path.exists(${JSON.stringify(ws.parent)}),
    'sys': os.path.exists('/sys'),
    'pids': len(pids),
    'etc': sorted(os.listdir('/etc')),
}))`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const seen = lastJson(r.stdout.text);
  assert.equal(seen.shadow, false);
  assert.equal(seen.root, false);
  assert.equal(seen.repo, false);
  assert.equal(seen.host_tmp_ws, false);
  assert.equal(seen.sys, false);
  // The jail's init and the program itself: no host process is visible.
  assert(typeof seen.pids === "number" && seen.pids <= 3, `pids: ${seen.pids}`);
  assert.deepEqual(
    (seen.etc as string[]).filter((f) =>
      !["alternatives", "group", "ld.so.cache", "localtime", "passwd"].includes(
        f,
      )
    ),
    [],
  );
});

Deno.test("jail: no privileges: NoNewPrivs, no capabilities, no nested user namespace", async () => {
  await using ws = await tempWorkspace();
  const r = await py(
    ws.dir,
    `
import json, re, subprocess
status = open('/proc/self/status').read()
field = lambda k: re.search(k + r':\\s+(\\S+)', status).group(1)
unshare = subprocess.run(['/usr/bin/unshare', '-r', '/usr/bin/true'], capture_output=True)
print(json.dumps({'no_new_privs': field('NoNewPrivs'), 'cap_eff': field('CapEff'),
                  'cap_bnd': field('CapBnd'), 'unshare': unshare.returncode}))`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const seen = lastJson(r.stdout.text);
  assert.equal(seen.no_new_privs, "1");
  assert.equal(seen.cap_eff, "0000000000000000");
  assert.equal(seen.cap_bnd, "0000000000000000");
  assert.notEqual(seen.unshare, 0);
});

Deno.test("jail: a secret in the runtime's environment reaches neither os.environ nor any /proc/*/environ", async () => {
  await using ws = await tempWorkspace();
  const canary = `mappa-canary-${crypto.randomUUID()}`;
  Deno.env.set("MAPPA_TEST_CANARY", canary);
  try {
    const r = await py(
      ws.dir,
      `
import os
found = [k for k, v in os.environ.items() if 'mappa-canary' in v]
for d in os.listdir('/proc'):
    if d.isdigit() or d == 'self':
        try:
            if b'mappa-canary' in open('/proc/%s/environ' % d, 'rb').read():
                found.append(d)
        except OSError:
            pass
print('found', found)`,
    );
    assert.equal(r.status, "ok", r.stderr.text);
    assert.equal(r.stdout.text, "found []\n");
    assert(!r.stdout.text.includes(canary));
  } finally {
    Deno.env.delete("MAPPA_TEST_CANARY");
  }
});

Deno.test("jail: writes outside the workspace fail, /tmp and /dev/shm are private and capped", async () => {
  await using ws = await tempWorkspace();
  const marker = `mappa-escape-${crypto.randomUUID()}`;
  const r = await py(
    ws.dir,
    `
import json, os
def write(p, n=1):
    try:
        with open(p, 'wb') as f:
            for _ in range(n):
                f.write(b'x' * (1 << 20))
        return 'ok'
    except OSError as e:
        return e.__class__.__name__ + ':' + str(e.errno)
m = ${JSON.stringify(marker)}
print(json.dumps({
    'root': write('/' + m), 'usr': write('/usr/' + m), 'etc': write('/etc/' + m),
    'parent': write('/workspace/../' + m), 'dev': write('/dev/' + m),
    'run': write('/run/' + m), 'program': write('/run/main.py'),
    'tmp_small': write('/tmp/' + m), 'tmp_big': write('/tmp/big', 16),
    'shm_big': write('/dev/shm/big', 16), 'ws': write('/workspace/' + m),
}))`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const seen = lastJson(r.stdout.text);
  for (const key of ["root", "usr", "etc", "parent", "dev", "run", "program"]) {
    assert.match(String(seen[key]), /^OSError:30$|^PermissionError:13$/, key);
  }
  assert.equal(seen.tmp_small, "ok");
  assert.equal(seen.tmp_big, "OSError:28"); // ENOSPC at the 8 MiB tmpfs
  assert.equal(seen.shm_big, "OSError:28");
  assert.equal(seen.ws, "ok");
  // Nothing reached the host: only the workspace file exists.
  assert.deepEqual([...(await snapshot(ws.parent)).entries.keys()], [
    "ws",
    `ws/${marker}`,
  ]);
  await assert.rejects(Deno.lstat(`/tmp/${marker}`), Deno.errors.NotFound);
});

Deno.test("jail: no network, not even to a listener on the host's loopback", async () => {
  await using ws = await tempWorkspace();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  // Positive control: the host reaches its own listener.
  (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  await using abstract = await abstractUnixListener();
  const r = await py(
    ws.dir,
    `
import json, socket
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return 'connected'
    except OSError as e:
        return e.__class__.__name__
def udp():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b'x', ('1.1.1.1', 53))
        return 'sent'
    except OSError as e:
        return e.__class__.__name__
def unix_abstract():
    try:
        socket.socket(socket.AF_UNIX).connect(${JSON.stringify(`\0`)} + ${
      JSON.stringify(abstract.name)
    })
        return 'connected'
    except OSError as e:
        return e.__class__.__name__
def dns():
    try:
        socket.getaddrinfo('example.com', 80)
        return 'resolved'
    except OSError as e:
        return e.__class__.__name__
print(json.dumps({'loopback': tcp('127.0.0.1', ${port}), 'external': tcp('1.1.1.1', 53),
                  'udp': udp(), 'dns': dns(), 'unix_abstract': unix_abstract(),
                  'ifaces': [n for _, n in socket.if_nameindex()]}))`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const seen = lastJson(r.stdout.text);
  assert.equal(seen.loopback, "ConnectionRefusedError");
  assert.notEqual(seen.external, "connected");
  assert.notEqual(seen.udp, "sent");
  assert.equal(seen.dns, "gaierror");
  assert.equal(seen.unix_abstract, "ConnectionRefusedError");
  assert.deepEqual(seen.ifaces, ["lo"]);

  const ts = await sandbox.exec({
    language: "typescript",
    code: `await fetch("http://127.0.0.1:${port}/");`,
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(ts.status, "error");
  assert.equal(ts.error?.type, "NotCapable");
});

Deno.test("jail: a double-forked setsid daemon leaves no survivor and does not hold exec()", async () => {
  await using ws = await tempWorkspace();
  const daemon = `
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        sys.stdout.write('daemon up\\n'); sys.stdout.flush()
        time.sleep(120)
    os._exit(0)
`;
  const started = performance.now();
  const quick = await py(
    ws.dir,
    daemon + "time.sleep(0.2)\nprint('parent done')",
  );
  assert.equal(quick.status, "ok", quick.stderr.text);
  assert(performance.now() - started < 3000);
  assert.deepEqual(await survivors(UID), []);

  // The parent outlives the wall limit while the daemon keeps the pipe open.
  const wallMs = 800;
  const t0 = performance.now();
  const slow = await py(ws.dir, daemon + "time.sleep(120)", {
    ...SMALL_LIMITS,
    wall_ms: wallMs,
  });
  const took = performance.now() - t0;
  assert.equal(slow.status, "wall_timeout");
  assert(took < wallMs + 1000, `exec() took ${took} ms`);
  assert.match(slow.stdout.text, /daemon up/);
  assert.deepEqual(await survivors(UID), []);
});

Deno.test("jail: planted symlinks and a FIFO are not followed, not hashed, and rejected", async () => {
  await using ws = await tempWorkspace();
  const before = await snapshot(ws.dir);
  const plant = await py(
    ws.dir,
    `
import os
os.symlink('/etc/shadow', 'link_shadow')
os.symlink('/', 'link_root')
os.mkfifo('fifo')
os.makedirs('sub')
open('sub/ok.txt', 'w').write('fine')
try:
    os.link('/etc/passwd', 'hard')
    print('hard link made')
except OSError as e:
    print('hard link', e.errno)`,
  );
  assert.equal(plant.status, "ok", plant.stderr.text);
  assert.match(plant.stdout.text, /^hard link (18|1)\n$/); // EXDEV or EPERM

  // A following Deno run that reads through the links sees the jail, not the host.
  const follow = await sandbox.exec({
    language: "typescript",
    code: `
const out: string[] = [];
for (const p of ["/workspace/link_root/etc/shadow", "/workspace/link_shadow"]) {
  try { await Deno.readTextFile(p); out.push("read"); } catch (e) { out.push((e as Error).name); }
}
console.log(out.join(","));`,
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(follow.status, "ok", follow.stderr.text);
  assert.equal(follow.stdout.text, "NotFound,NotFound\n");

  const started = performance.now();
  const { changes, snapshot: after } = await collectChanges(ws.dir, before);
  assert(performance.now() - started < 2000, "the FIFO blocked the collector");
  assert.deepEqual(
    changes.map((c) => [c.path, c.kind, c.rejected ?? c.sha256 ?? null]),
    [
      ["fifo", "fifo", "not a regular file"],
      ["link_root", "symlink", "not a regular file"],
      ["link_shadow", "symlink", "not a regular file"],
      ["sub", "dir", null],
      ["sub/ok.txt", "file", await sha256("fine")],
    ],
  );
  assert.deepEqual([...after.entries.keys()], ["sub", "sub/ok.txt"]);
  for (const gone of ["fifo", "link_root", "link_shadow"]) {
    await assert.rejects(Deno.lstat(`${ws.dir}/${gone}`), Deno.errors.NotFound);
  }
});

/** A host process listening on an abstract unix socket; a host client reaches it (positive control). */
async function abstractUnixListener(): Promise<
  { name: string } & AsyncDisposable
> {
  const name = `mappa-test-${crypto.randomUUID()}`;
  const child = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import socket, sys, time\ns = socket.socket(socket.AF_UNIX)\ns.bind('\\0' + sys.argv[1])\ns.listen()\nprint('ready', flush=True)\ntime.sleep(60)",
      name,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    assert(!done, "the abstract socket listener did not start");
    seen += new TextDecoder().decode(value);
  }
  const client = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import socket, sys\nsocket.socket(socket.AF_UNIX).connect('\\0' + sys.argv[1])",
      name,
    ],
  }).output();
  assert(client.success, "the host cannot reach its own abstract socket");
  return {
    name,
    [Symbol.asyncDispose]: async () => {
      child.kill("SIGKILL");
      await reader.cancel();
      await child.status;
    },
  };
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
