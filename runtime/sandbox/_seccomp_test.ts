// Issue 13, item 4: the checked-in seccomp programs are exactly what their generator writes.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SECCOMP_ARCHES, SECCOMP_DIR, seccompProgramPath } from "./_seccomp.ts";
import { SandboxError } from "./sandbox_error.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = "/usr/bin/python3";

Deno.test("the checked-in seccomp programs equal tools/seccomp_gen.py's output", async () => {
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import seccomp"],
    stderr: "null",
  }).output();
  assert.ok(
    probe.success,
    'Cannot regenerate the seccomp filter: Python\'s seccomp module is missing; install it with "apt-get install -y python3-seccomp"',
  );
  const out = await Deno.makeTempDir({ prefix: "mappa-seccomp-" });
  try {
    const gen = await new Deno.Command(PYTHON, {
      args: [`${REPO}tools/seccomp_gen.py`, out],
      stderr: "piped",
    }).output();
    assert.ok(gen.success, new TextDecoder().decode(gen.stderr));
    const manifest = JSON.parse(
      await Deno.readTextFile(new URL("manifest.json", SECCOMP_DIR)),
    );
    const fresh = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    const hint =
      `regenerate with "/usr/bin/python3 tools/seccomp_gen.py runtime/sandbox/seccomp" (checked in with libseccomp ${manifest.libseccomp}, here ${fresh.libseccomp})`;
    for (const arch of SECCOMP_ARCHES) {
      for (const ext of ["bpf", "pfc"]) {
        const name = `${arch}.${ext}`;
        assert.deepEqual(
          await Deno.readFile(`${out}/${name}`),
          await Deno.readFile(new URL(name, SECCOMP_DIR)),
          `${name} differs from the generator's output; ${hint}`,
        );
      }
    }
    assert.deepEqual(fresh, manifest, hint);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("seccompProgramPath() gives the host's program and refuses an architecture without one", () => {
  const path = seccompProgramPath();
  assert.ok(path.endsWith(`/seccomp/${Deno.build.arch}.bpf`));
  assert.equal(Deno.statSync(path).size % 8, 0);
  assert.throws(
    () => seccompProgramPath("riscv64"),
    (e: unknown) =>
      e instanceof SandboxError &&
      /^Cannot start the bwrap sandbox on riscv64: the seccomp filter exists for x86_64 and aarch64 only; add the architecture/
        .test(e.message),
  );
});

Deno.test("each seccomp program first checks its own architecture, and x86_64's rejects x32 numbers", async () => {
  const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
  for (const arch of SECCOMP_ARCHES) {
    const bytes = await Deno.readFile(new URL(`${arch}.bpf`, SECCOMP_DIR));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, little-endian on both hosts.
    const ins = (i: number) => ({
      code: view.getUint16(i * 8, true),
      k: view.getUint32(i * 8 + 4, true),
    });
    assert.deepEqual(
      ins(0),
      { code: 0x20, k: 4 },
      `${arch}: load seccomp_data.arch`,
    );
    assert.deepEqual(
      ins(1),
      { code: 0x15, k: AUDIT_ARCH[arch] },
      `${arch}: jeq arch`,
    );
    if (arch === "x86_64") {
      assert.deepEqual(
        ins(3),
        { code: 0x35, k: 0x40000000 },
        "jge __X32_SYSCALL_BIT",
      );
    }
  }
});
