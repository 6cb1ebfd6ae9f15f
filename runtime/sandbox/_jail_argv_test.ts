// reference/sandbox.md §3.7 item 15: the argument vectors never grant more than the workspace.
import assert from "node:assert/strict";
import type { ExecLimits } from "../ports.ts";
import {
  bwrapArgs,
  denoRunArgs,
  JAIL_FD,
  jailArgv,
  jailCommand,
  type JailParams,
  jailRlimits,
  launcherArgv,
  splitBwrapArgs,
  ulimitScript,
} from "./_jail_argv.ts";
import { SMALL_LIMITS } from "./_test_support.ts";

const FORBIDDEN =
  /^(-A|--allow-all|--allow-run|--allow-ffi|--allow-net|--allow-env|--allow-sys|--allow-import|--allow-hrtime|--allow-scripts|--unsafely-ignore-certificate-errors)(=|$)/;

function params(
  over: Partial<JailParams> = {},
  limits: Partial<ExecLimits> = {},
): JailParams {
  return {
    language: "typescript",
    limits: { ...SMALL_LIMITS, ...limits },
    workspace: "/tmp/ws",
    user: { uid: 200_007, gid: 200_000 },
    tools: {
      setpriv: "/usr/bin/setpriv",
      bwrap: "/usr/bin/bwrap",
      python: "/usr/bin/python3",
      deno: "/usr/lib/deno",
    },
    tmpMb: 256,
    shmMb: 64,
    nofile: 512,
    nproc: 64,
    ...over,
  };
}

function checkDenoArgs(args: readonly string[], workspace: string): void {
  assert.equal(args[0], "run");
  assert(args.includes("--no-prompt"), args.join(" "));
  for (const a of args) assert.doesNotMatch(a, FORBIDDEN);
  const reads = args.filter((a) => a.startsWith("--allow-read"));
  const writes = args.filter((a) => a.startsWith("--allow-write"));
  assert.deepEqual(reads, [`--allow-read=${workspace}`]);
  assert.deepEqual(writes, [`--allow-write=${workspace}`]);
  assert(
    !args.some((a) => a.startsWith("-P") || a.startsWith("--permission-set")),
  );
}

Deno.test("denoRunArgs() scopes reads and writes to the workspace and never grants more", () => {
  for (const memory of [1, 128, 512, 4096, 1 << 20]) {
    checkDenoArgs(
      denoRunArgs("/workspace", "/run/main.ts", memory),
      "/workspace",
    );
  }
});

Deno.test("denoRunArgs() bounds the V8 heap to memory_mb clamped to [128, 4096]", () => {
  const heap = (mb: number) =>
    denoRunArgs("/w", "/p.ts", mb).find((a) => a.startsWith("--v8-flags="));
  assert.equal(heap(64), "--v8-flags=--max-old-space-size=128");
  assert.equal(heap(1000), "--v8-flags=--max-old-space-size=1000");
  assert.equal(heap(100_000), "--v8-flags=--max-old-space-size=4096");
});

Deno.test("jailArgv() runs Deno jailed, scoped to /workspace, with no RLIMIT_AS", () => {
  const argv = jailArgv(params());
  const sep = argv.lastIndexOf("--");
  assert.equal(argv[sep + 1], "/opt/deno");
  checkDenoArgs(argv.slice(sep + 2), "/workspace");
  assert(!argv.some((a) => a.startsWith("--as=")));
  assert(argv.join(" ").includes("--ro-bind /usr/lib/deno /opt/deno"));
});

Deno.test("jailArgv() applies every rlimit, and RLIMIT_AS for Python only", () => {
  const argv = jailArgv(
    params({ language: "python" }, {
      cpu_s: 7,
      memory_mb: 300,
      file_size_mb: 2,
    }),
  );
  for (
    const flag of [
      `--as=${300 << 20}`,
      "--cpu=7:8",
      "--nproc=64",
      `--fsize=${2 << 20}`,
      "--nofile=512",
      "--core=0",
    ]
  ) assert(argv.includes(flag), flag);
  assert.deepEqual(argv.slice(-3), ["/usr/bin/python3", "-I", "/run/main.py"]);
});

Deno.test("jailArgv() drops to the slot's uid right after the rlimits and builds the hardened jail of §2.6", () => {
  const all = jailArgv(params());
  assert.equal(all[0], "ulimit");
  const argv = all.slice(all.indexOf("--") + 1);
  assert.deepEqual(argv.slice(0, 8), [
    "/usr/bin/setpriv",
    "--reuid=200007",
    "--regid=200000",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
    "/usr/bin/bwrap",
  ]);
  const line = argv.join(" ");
  for (
    const piece of [
      "--unshare-all --unshare-user --disable-userns --die-with-parent --new-session --clearenv --cap-drop ALL",
      `--size ${64 << 20} --tmpfs /dev/shm`,
      `--size ${256 << 20} --tmpfs /tmp`,
      "--perms 0444 --ro-bind-data 5 /run/main.ts",
      "--seccomp 3 --json-status-fd 4",
      "--bind /tmp/ws /workspace --chdir /workspace --remount-ro /dev --remount-ro /",
      "--no-remote --no-npm",
      "--setenv DENO_DIR /tmp/deno",
    ]
  ) assert(line.includes(piece), piece);
  assert(!argv.includes("--share-net"));
  assert(!argv.includes("--ro-bind / /") && !line.includes("--bind / "));
});

Deno.test("jailArgv() skips setpriv when the runtime is not root", () => {
  const argv = jailArgv(params({ user: null }));
  assert.equal(argv[argv.indexOf("--") + 1], "/usr/bin/bwrap");
  assert(!argv.includes("/usr/bin/setpriv"));
});

Deno.test("jailArgv() hides paths after the workspace is bound, so paths inside it can be hidden", () => {
  const argv = jailArgv(params({
    hide: [
      { path: "/usr/share/data", dir: true },
      { path: "/workspace/secret.csv", dir: false },
    ],
  }));
  const line = argv.join(" ");
  const bind = line.indexOf("--bind /tmp/ws /workspace");
  const dir = line.indexOf("--perms 0555 --size 4096 --tmpfs /usr/share/data");
  const file = line.indexOf("--ro-bind /dev/null /workspace/secret.csv");
  assert(bind >= 0 && dir > bind && file > bind, line);
  assert(dir < line.indexOf("--remount-ro /"));
});

Deno.test("jailCommand() opens the jail's files on fixed descriptors and keeps host paths off bwrap's command line", () => {
  const p = params({ language: "python" });
  const { options, command } = splitBwrapArgs(bwrapArgs(p));
  assert.deepEqual(command, ["--", "/usr/bin/python3", "-I", "/run/main.py"]);
  assert(options.includes("/tmp/ws"), "the workspace is in the --args file");
  const files = {
    seccomp: "/repo/seccomp/x86_64.bpf",
    status: "/tmp/j/status.jsonl",
    program: "/tmp/j/main.py",
    args: "/tmp/j/bwrap.args",
  };
  const cmd = jailCommand(launcherArgv(p), command, files);
  assert.equal(cmd.command, "/bin/sh");
  const script = cmd.args[1]!;
  for (const [name, fd] of Object.entries(JAIL_FD)) {
    assert.match(script, new RegExp(` ${fd}[<>]+"\\$`), name);
  }
  assert.deepEqual(cmd.args.slice(3, 7), [
    files.seccomp,
    files.status,
    files.program,
    files.args,
  ]);
  // What bwrap (and so the jail's pid 1) sees as its argv: no workspace, no program file.
  const bwrapArgv = cmd.args.slice(cmd.args.indexOf("/usr/bin/bwrap"));
  assert.deepEqual(bwrapArgv, [
    "/usr/bin/bwrap",
    "--args",
    String(JAIL_FD.args),
    ...command,
  ]);
});

Deno.test("jailCommand() closes inherited descriptors but never its own, with bash only above 9", () => {
  const p = params({ language: "python" });
  const { command } = splitBwrapArgs(bwrapArgs(p));
  const files = { seccomp: "/s", status: "/j", program: "/p", args: "/a" };
  const low = jailCommand(launcherArgv(p), command, files, [7, 3, 4]);
  assert.equal(low.command, "/bin/sh");
  assert.match(low.args[1]!, / 7>&-$/);
  assert.doesNotMatch(low.args[1]!, / [3-6]>&-/);
  const high = jailCommand(launcherArgv(p), command, files, [7, 251]);
  assert.equal(high.command, "/bin/bash");
  assert.match(high.args[1]!, / 7>&- 251>&-$/);
  assert.equal(jailCommand(launcherArgv(p), command, files).command, "/bin/sh");
});

Deno.test("jailCommand() sets every rlimit with the shell's ulimit builtins, in dash and in bash alike", async () => {
  const p = params({ language: "python", user: null }, {
    cpu_s: 7,
    memory_mb: 300,
    file_size_mb: 2,
  });
  const rlimits = jailRlimits(p);
  const expected: Record<string, [string, string]> = {
    "Max cpu time": ["7", "8"],
    "Max address space": [String(300 << 20), String(300 << 20)],
    "Max processes": ["64", "64"],
    "Max file size": [String(2 << 20), String(2 << 20)],
    "Max open files": ["512", "512"],
    "Max core file size": ["0", "0"],
  };
  for (const shell of ["dash", "bash"] as const) {
    const out = await new Deno.Command(
      `/bin/${shell === "dash" ? "sh" : "bash"}`,
      {
        args: [
          "-c",
          `${ulimitScript(rlimits, shell)} && exec cat /proc/self/limits`,
        ],
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      },
    ).output();
    const text = new TextDecoder().decode(out.stdout);
    assert(out.success, new TextDecoder().decode(out.stderr));
    for (const [name, [soft, hard]] of Object.entries(expected)) {
      const m = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, "m").exec(text);
      assert.deepEqual([m?.[1], m?.[2]], [soft, hard], `${shell}: ${name}`);
    }
  }
  // A limit the shell cannot set stops the launcher before bwrap runs.
  const files = { seccomp: "/s", status: "/j", program: "/p", args: "/a" };
  const cmd = jailCommand(["/usr/bin/bwrap"], ["--", "/bin/true"], files, [], [
    { name: "cpu", soft: 5, hard: 4 },
  ]);
  const r = await new Deno.Command(cmd.command, {
    args: cmd.args,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 126);
  assert.match(
    new TextDecoder().decode(r.stderr),
    /cannot set the jail rlimits/,
  );
});

Deno.test("bwrapArgs() binds the workspace read-only when asked, and read-write by default", () => {
  const bind = (args: string[]) => {
    const i = args.indexOf("/workspace");
    return args.slice(i - 2, i + 1);
  };
  assert.deepEqual(bind(bwrapArgs(params())), [
    "--bind",
    "/tmp/ws",
    "/workspace",
  ]);
  assert.deepEqual(bind(bwrapArgs(params({ readonlyWorkspace: true }))), [
    "--ro-bind",
    "/tmp/ws",
    "/workspace",
  ]);
  // Python is always isolated (-I): the workspace is never on sys.path.
  const py = bwrapArgs(params({ language: "python" }));
  assert.deepEqual(py.slice(-3), ["/usr/bin/python3", "-I", "/run/main.py"]);
});
