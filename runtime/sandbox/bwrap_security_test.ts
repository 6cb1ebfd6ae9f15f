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
      ![
        "alternatives",
        "fonts",
        "group",
        "ld.so.cache",
        "localtime",
        "matplotlibrc",
        "passwd",
      ].includes(f)
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

// Issue 13, item 4: the seccomp filter. Each call below succeeded (or reached the kernel) before it.
const SECCOMP_ATTACKS = String.raw`
import ctypes, errno, json, os, platform, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {
  "x86_64": dict(add_key=248, request_key=249, keyctl=250, io_uring_setup=425, ptrace=101,
                 perf_event_open=298, bpf=321, userfaultfd=282 + 41, personality=135, unshare=272,
                 mount=165, setns=308, clone3=435, kexec_load=246, init_module=175, socket=41,
                 socketpair=53),
  "aarch64": dict(add_key=217, request_key=218, keyctl=219, io_uring_setup=425, ptrace=117,
                  perf_event_open=241, bpf=280, userfaultfd=282, personality=92, unshare=97,
                  mount=40, setns=268, clone3=435, kexec_load=104, init_module=105, socket=198,
                  socketpair=199),
}[platform.machine()]
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
    return [r, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()) if r == -1 else None]
def sock(family, kind=socket.SOCK_STREAM, proto=0):
    try:
        socket.socket(family, kind, proto).close()
        return "opened"
    except OSError as e:
        return errno.errorcode[e.errno]
buf = ctypes.create_string_buffer(b"secret")
attr = ctypes.create_string_buffer(128)  # perf_event_attr / bpf_attr / io_uring_params, zeroed
out = {
  "seccomp_mode": open("/proc/self/status").read().split("Seccomp:")[1].split()[0],
  "add_key": call("add_key", ctypes.addressof(ctypes.create_string_buffer(b"user")),
                  ctypes.addressof(ctypes.create_string_buffer(b"mappa")), ctypes.addressof(buf), 6,
                  -3),  # KEY_SPEC_USER_KEYRING
  "request_key": call("request_key", ctypes.addressof(ctypes.create_string_buffer(b"user")),
                      ctypes.addressof(ctypes.create_string_buffer(b"mappa")), 0, 0),
  "keyctl_read_user_keyring": call("keyctl", 0, -4, 0),  # KEYCTL_GET_KEYRING_ID, session
  "io_uring_setup": call("io_uring_setup", 8, ctypes.addressof(attr)),
  "ptrace_traceme": call("ptrace", 0, 0, 0, 0),
  "ptrace_attach_init": call("ptrace", 16, 1, 0, 0),
  "perf_event_open": call("perf_event_open", ctypes.addressof(attr), 0, -1, -1, 0),
  "bpf": call("bpf", 0, ctypes.addressof(attr), 128),
  "userfaultfd": call("userfaultfd", 0),
  "personality_read_implies_exec": call("personality", 0x0400000),
  "personality_no_randomize": call("personality", 0x0040000),
  "unshare_mount_ns": call("unshare", 0x00020000),
  "setns": call("setns", 0, 0),
  "mount": call("mount", 0, 0, 0, 0, 0),
  "kexec_load": call("kexec_load", 0, 0, 0, 0),
  "init_module": call("init_module", 0, 0, 0),
  "clone3": call("clone3", 0, 0),
  # AF_VSOCK with the upper 32 bits set: the kernel reads an int, so must the filter.
  "vsock_high_bits": call("socket", (1 << 32) | 40, 1, 0),
  "af_vsock": sock(40),
  "af_packet": sock(17, socket.SOCK_RAW),
  "af_bluetooth": sock(31, socket.SOCK_RAW),
  "af_alg": sock(38, socket.SOCK_SEQPACKET),
  "af_key": sock(15, socket.SOCK_RAW, 2),
  "netlink_uevent": sock(16, socket.SOCK_DGRAM, 15),
  "netlink_audit": sock(16, socket.SOCK_RAW, 9),
  "netlink_sock_diag": sock(16, socket.SOCK_DGRAM, 4),
  "socketpair_tipc": call("socketpair", 30, 5, 0, ctypes.addressof(ctypes.create_string_buffer(8))),
  # what tools need stays open
  "netlink_route": sock(16, socket.SOCK_DGRAM, 0),
  "af_unix": sock(socket.AF_UNIX),
  "af_inet": sock(socket.AF_INET),
  "af_inet6": sock(socket.AF_INET6),
  "personality_default": call("personality", 0),
}
print(json.dumps(out))
`;

Deno.test("jail: seccomp denies keyrings, io_uring, ptrace, perf, bpf, userfaultfd, personality, namespaces and odd socket families", async () => {
  await using ws = await tempWorkspace();
  const r = await py(ws.dir, SECCOMP_ATTACKS);
  assert.equal(r.status, "ok", r.stderr.text);
  const out = lastJson(r.stdout.text);
  assert.equal(out.seccomp_mode, "2", "a seccomp filter is loaded");
  const denied = (name: string, errno: string) =>
    assert.deepEqual(out[name], [-1, errno], name);
  for (
    const name of [
      "add_key",
      "request_key",
      "keyctl_read_user_keyring",
      "io_uring_setup",
      "perf_event_open",
      "bpf",
      "userfaultfd",
      "clone3",
    ]
  ) denied(name, "ENOSYS");
  for (
    const name of [
      "ptrace_traceme",
      "ptrace_attach_init",
      "personality_read_implies_exec",
      "personality_no_randomize",
      "unshare_mount_ns",
      "setns",
      "mount",
      "kexec_load",
      "init_module",
    ]
  ) denied(name, "EPERM");
  denied("vsock_high_bits", "EAFNOSUPPORT");
  denied("socketpair_tipc", "EAFNOSUPPORT");
  for (
    const name of [
      "af_vsock",
      "af_packet",
      "af_bluetooth",
      "af_alg",
      "af_key",
      "netlink_uevent",
      "netlink_audit",
      "netlink_sock_diag",
    ]
  ) assert.equal(out[name], "EAFNOSUPPORT", name);
  for (const name of ["netlink_route", "af_unix", "af_inet", "af_inet6"]) {
    assert.equal(out[name], "opened", name);
  }
  assert.deepEqual(out.personality_default, [0, null]);
});

Deno.test("jail: a syscall through another ABI (i386 int 0x80, x32) kills the process instead of bypassing the filter", async () => {
  if (Deno.build.arch !== "x86_64") return;
  await using ws = await tempWorkspace();
  const r = await py(
    ws.dir,
    String.raw`
import ctypes, json, subprocess, sys
x32 = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
print(libc.syscall(ctypes.c_long(0x40000000 | 39)))  # getpid through the x32 ABI
"""
p = subprocess.run([sys.executable, "-I", "-c", x32], capture_output=True, text=True)
print(json.dumps({"x32": p.returncode, "out": p.stdout}))
`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const out = lastJson(r.stdout.text);
  // SIGSYS (31): killed by the filter's bad-architecture action.
  assert.equal(out.x32, -31, JSON.stringify(out));
});

Deno.test("jail: with the filter on, Python threads, multiprocessing, subprocess, sockets and pandas/sklearn work", async () => {
  await using ws = await tempWorkspace();
  const r = await py(
    ws.dir,
    `
import json, multiprocessing as mp, socket, subprocess, threading
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
def square(x):
    return x * x
if __name__ == "__main__":
    seen = []
    ts = [threading.Thread(target=lambda i=i: seen.append(i)) for i in range(8)]
    [t.start() for t in ts]; [t.join() for t in ts]
    with mp.Pool(2) as pool:
        squares = pool.map(square, range(5))
    a, b = socket.socketpair(); a.sendall(b"x"); got = b.recv(1)
    echo = subprocess.run(["/usr/bin/echo", "hi"], capture_output=True, text=True).stdout
    try:
        # AI_ADDRCONFIG makes glibc ask NETLINK_ROUTE which address families are configured
        socket.getaddrinfo("127.0.0.1", 80, flags=socket.AI_ADDRCONFIG)
        dns = "ok"
    except OSError as e:
        dns = type(e).__name__
    X = np.arange(20).reshape(-1, 1); y = (X[:, 0] > 9).astype(int)
    fit = LogisticRegression().fit(pd.DataFrame(X), y).score(pd.DataFrame(X), y)
    print(json.dumps({"threads": sorted(seen), "squares": squares, "pair": got.decode(),
                      "echo": echo, "dns": dns, "fit": fit}))
`,
    { ...SMALL_LIMITS, memory_mb: 2048, wall_ms: 60_000, cpu_s: 60 },
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const out = lastJson(r.stdout.text);
  assert.deepEqual(out.threads, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(out.squares, [0, 1, 4, 9, 16]);
  assert.equal(out.pair, "x");
  assert.equal(out.echo, "hi\n");
  assert.equal(out.dns, "ok");
  assert.equal(out.fit, 1);
});

Deno.test("jail: with the filter on, a Deno tool runs async code, workers and workspace I/O", async () => {
  await using ws = await tempWorkspace();
  const r = await sandbox.exec({
    language: "typescript",
    code: `
const worker = new Worker(
  "data:application/javascript," + encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data * 2);"),
  { type: "module" },
);
const doubled = await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
  worker.postMessage(21);
});
worker.terminate();
await Deno.writeTextFile("/workspace/out.txt", "ok");
const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("x"));
console.log(JSON.stringify({ doubled, read: await Deno.readTextFile("/workspace/out.txt"), digest: digest.byteLength }));
`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, memory_mb: 1024 },
    slot: SLOT,
  });
  assert.equal(r.status, "ok", r.stderr.text);
  assert.deepEqual(lastJson(r.stdout.text), {
    doubled: 42,
    read: "ok",
    digest: 32,
  });
});

// Issue 13, item 6: the jail's status comes from bwrap's status descriptor, never from stderr.
Deno.test("jail: a program that prints a bwrap error and exits 1 is the agent's error, not sandbox_error", async () => {
  await using ws = await tempWorkspace();
  for (
    const code of [
      'import sys\nsys.stderr.write("bwrap: Can\'t mount proc on /newroot/proc: Operation not permitted\\n")\nsys.exit(1)',
      "import os\nos.write(2, b'setpriv: setresuid failed: Resource temporarily unavailable\\n')\nos._exit(1)",
    ]
  ) {
    const r = await py(ws.dir, code);
    assert.equal(r.exit_code, 1);
    assert.equal(r.status, "error", r.stderr.text);
  }
  const ts = await sandbox.exec({
    language: "typescript",
    code:
      "console.error('bwrap: execvp /usr/bin/python3: No such file');\nDeno.exit(1);",
    workspace: ws.dir,
    limits: SMALL_LIMITS,
    slot: SLOT,
  });
  assert.equal(ts.status, "error", ts.stderr.text);
});

// Issue 13, item 7: no host path of the workspace or the program in any jailed process's argv, no
// descriptor of the jail's host files, no host path of the program in mountinfo.
Deno.test("jail: /proc/*/cmdline, descriptors and mountinfo show no host path of the program or workspace", async () => {
  await using ws = await tempWorkspace();
  const r = await py(
    ws.dir,
    `
import json, os
cmdlines = []
for pid in [d for d in os.listdir('/proc') if d.isdigit()]:
    try:
        cmdlines.append(open(f'/proc/{pid}/cmdline', 'rb').read().decode(errors='replace').replace('\\0', ' '))
    except OSError:
        pass
fds = {}
for n in range(3, 7):
    try:
        fds[n] = os.readlink(f'/proc/self/fd/{n}')
    except OSError:
        pass
print(json.dumps({'cmdlines': cmdlines, 'fds': fds, 'mountinfo': open('/proc/self/mountinfo').read(),
                  'main': open('/proc/self/mountinfo').read().count('/run/main.py')}))
`,
  );
  assert.equal(r.status, "ok", r.stderr.text);
  const out = lastJson(r.stdout.text);
  const cmdlines = (out.cmdlines as string[]).join("\n");
  assert.match(cmdlines, /--args 6 -- \/usr\/bin\/python3 -I \/run\/main\.py/);
  for (const host of [ws.dir, ws.parent, "mappa-jail-", "/tmp/"]) {
    assert(!cmdlines.includes(host), `${host} in ${cmdlines}`);
  }
  // Descriptors 3-6 carried the seccomp program, status, program and arguments: all closed by bwrap.
  assert.deepEqual(out.fds, {});
  const mountinfo = out.mountinfo as string;
  assert(!mountinfo.includes("mappa-jail-"), mountinfo);
  assert.equal(out.main, 1);
});

Deno.test("jail: a TypeScript tool cannot import host files outside the jail, nor remote modules", async () => {
  await using ws = await tempWorkspace();
  const outside = `${ws.parent}/host-secret.json`;
  await Deno.writeTextFile(outside, '{"secret": "HOSTCANARY"}');
  const r = await sandbox.exec({
    language: "typescript",
    code: `
const attempt = async (spec: string, type?: string) => {
  try {
    const m = await import(spec, type ? { with: { type } } : undefined);
    return "imported " + JSON.stringify(m.default ?? Object.keys(m)).slice(0, 40);
  } catch (e) {
    return (e as Error).name;
  }
};
console.log(JSON.stringify({
  outside: await attempt(${JSON.stringify(`file://${outside}`)}, "json"),
  shadow: await attempt("file:///etc/shadow", "text"),
  repo: await attempt(${JSON.stringify(`file://${REPO}deno.json`)}, "json"),
  remote: await attempt("https://deno.land/std/version.ts"),
}));
`,
    workspace: ws.dir,
    limits: { ...SMALL_LIMITS, memory_mb: 1024 },
    slot: SLOT,
  });
  assert.equal(r.status, "ok", r.stderr.text);
  const out = lastJson(r.stdout.text);
  for (const key of ["outside", "shadow", "repo", "remote"]) {
    assert.doesNotMatch(String(out[key]), /^imported/, `${key}: ${out[key]}`);
  }
  assert(!r.stdout.text.includes("HOSTCANARY"));
});

Deno.test("jail: descriptors the runtime inherited (from a shell or CI harness) do not reach the program", async () => {
  await using ws = await tempWorkspace();
  const script = `${ws.parent}/inherit.ts`;
  await Deno.writeTextFile(
    script,
    `
import { BwrapSandbox } from ${
      JSON.stringify(new URL("./bwrap_sandbox.ts", import.meta.url).href)
    };
import { SMALL_LIMITS } from ${
      JSON.stringify(new URL("./_test_support.ts", import.meta.url).href)
    };
const sandbox = await BwrapSandbox.create({ tmpMb: 8, shmMb: 4, hidePaths: [] });
const r = await sandbox.exec({
  language: "python",
  code: "import os\\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))",
  workspace: ${JSON.stringify(ws.dir)},
  limits: SMALL_LIMITS,
  slot: ${SLOT + 1},
});
console.log(r.stdout.text.trim());
`,
  );
  // fd 8 and 13 stay open without close-on-exec in bash, so the runtime inherits them.
  const out = await new Deno.Command("/bin/bash", {
    args: [
      "-c",
      `exec 8</etc/hostname 13>${ws.parent}/leak; exec "$0" run -A "$1"`,
      Deno.execPath(),
      script,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  // 0-2 and the listing's own descriptor (3).
  assert.equal(text, "[0, 1, 2, 3]");
});
