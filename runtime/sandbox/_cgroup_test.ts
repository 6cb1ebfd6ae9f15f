import assert from "node:assert/strict";
import { JailCgroup, probeCgroups } from "./_cgroup.ts";
import { runProcess } from "./_run_process.ts";
import { SMALL_LIMITS } from "./_test_support.ts";

const probe = Deno.uid() === 0 ? probeCgroups() : undefined;

Deno.test("probeCgroups() says why not, without touching anything, where no cgroup hierarchy is mounted", () => {
  const r = probeCgroups({
    mountinfo: "22 1 0:21 / /proc rw - proc proc rw\n",
    selfCgroup: "0::/\n",
  });
  assert.deepEqual(r, { ok: false, reason: "v1 has no memory controller" });
});

Deno.test("probeCgroups() skips a v2 hierarchy without the memory and pids controllers", async () => {
  const fake = await Deno.makeTempDir({ prefix: "mappa-cg-" });
  try {
    await Deno.writeTextFile(`${fake}/cgroup.controllers`, "cpu io\n");
    const r = probeCgroups({
      mountinfo:
        `30 25 0:26 / ${fake} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`,
      selfCgroup: "0::/user.slice\n",
    });
    assert.equal(r.ok, false);
    assert.match(
      (r as { reason: string }).reason,
      /^v2 ".*" has no memory and pids controllers; v1 has no memory controller$/,
    );
    assert.deepEqual([...Deno.readDirSync(fake)].map((e) => e.name), [
      "cgroup.controllers",
    ]);
  } finally {
    await Deno.remove(fake, { recursive: true });
  }
});

Deno.test(
  "JailCgroup holds a joined process, counts its CPU and OOM kills, kills it and removes itself",
  { ignore: probe === undefined || !probe.ok },
  async (t) => {
    const host =
      (probe as { ok: true; host: Parameters<typeof JailCgroup.create>[0] })
        .host;
    const cg = JailCgroup.create(host, { memory_mb: 32, pids: 8 });
    try {
      await t.step(
        "a process that joins stays in it with its children",
        async () => {
          const joins = cg.procsFiles.map((f) => `echo $$ > ${f}`).join(" && ");
          const child = new Deno.Command("/bin/sh", {
            args: ["-c", `${joins} && exec python3 -c "b = b'x' * (64 << 20)"`],
            stdout: "null",
            stderr: "null",
          }).spawn();
          const status = await child.status;
          assert.equal(status.signal, "SIGKILL");
          assert.equal(cg.oomKills(), 1);
          assert(cg.cpuUsec() > 0);
        },
      );
      await t.step("killAll() and remove() leave nothing", async () => {
        const joins = cg.procsFiles.map((f) => `echo $$ > ${f}`).join(" && ");
        const child = new Deno.Command("/bin/sh", {
          args: ["-c", `${joins} && sleep 30 & sleep 30 & wait`],
          stdout: "null",
          stderr: "null",
        }).spawn();
        await new Promise((r) => setTimeout(r, 200));
        assert(cg.pids().length >= 1);
        assert.equal(await cg.remove(2000), true);
        for (const d of [host.memory, host.pids, host.cpu]) {
          assert.equal(
            [...Deno.readDirSync(d)].some((e) => e.name === cg.name),
            false,
          );
        }
        try {
          child.kill("SIGKILL"); // the sh outside the cgroup's reach, if still there
        } catch {
          // already ended with its children
        }
        await child.status;
      });
    } finally {
      await cg.remove(2000);
    }
  },
);

Deno.test(
  "probeCgroups() removes the empty jail cgroups of a mappa process that no longer runs",
  { ignore: probe === undefined || !probe.ok },
  () => {
    const host =
      (probe as { ok: true; host: Parameters<typeof JailCgroup.create>[0] })
        .host;
    const dirs = [...new Set([host.memory, host.pids, host.cpu])].map((d) =>
      `${d}/jail-999999999-1`
    );
    try {
      for (const d of dirs) Deno.mkdirSync(d);
      assert.equal(probeCgroups().ok, true);
      for (const d of dirs) {
        assert.throws(() => Deno.statSync(d), Deno.errors.NotFound);
      }
    } finally {
      for (const d of dirs) {
        try {
          Deno.removeSync(d);
        } catch {
          // removed by the probe
        }
      }
    }
  },
);

Deno.test(
  "runProcess() starts the command inside the cgroup (prepended to an sh -c launcher, or through its own sh) and classifies its OOM kill as memory_limit",
  { ignore: probe === undefined || !probe.ok },
  async (t) => {
    const host =
      (probe as { ok: true; host: Parameters<typeof JailCgroup.create>[0] })
        .host;
    const cg = JailCgroup.create(host, { memory_mb: 32, pids: 16 });
    const base = {
      env: {},
      language: "python" as const,
      limits: { ...SMALL_LIMITS, memory_mb: 32 },
      exitCodeEncodesSignal: false,
      cgroup: cg,
    };
    try {
      await t.step(
        "an sh -c launcher keeps its positional parameters",
        async () => {
          const r = await runProcess({
            ...base,
            command: "/bin/sh",
            args: ["-c", 'echo "$0 $1"; cat /proc/self/cgroup', "zero", "one"],
          });
          assert.equal(r.status, "ok", r.stderr.text);
          assert.match(r.stdout.text, /^zero one\n/);
          assert.match(r.stdout.text, new RegExp(`:pids:.*/${cg.name}\n`));
        },
      );
      await t.step("any other command gets its own sh", async () => {
        const r = await runProcess({
          ...base,
          command: "/usr/bin/cat",
          args: ["/proc/self/cgroup"],
        });
        assert.match(r.stdout.text, new RegExp(`:memory:.*/${cg.name}\n`));
      });
      await t.step("an OOM kill in the cgroup is memory_limit", async () => {
        const r = await runProcess({
          ...base,
          command: "/usr/bin/python3",
          args: ["-c", "b = b'x' * (64 << 20)"],
        });
        assert.equal(r.status, "memory_limit");
        assert.equal(r.error?.type, "MemoryLimit");
      });
    } finally {
      await cg.remove(2000);
    }
  },
);
