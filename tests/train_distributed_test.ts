import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./run_cli.ts";
import { readMetrics, type StepLine } from "../training/mod.ts";

// `deno task train --trainer URL` against the trainer started as 2 torch.distributed ranks (gloo, CPU),
// the environment torchrun sets; Debian's torchrun itself fails on Python 3.11, so the ranks are started
// here with MASTER_ADDR / MASTER_PORT / RANK / WORLD_SIZE.

const SPEC = "tests/specs/train_attribution.yaml";
const PYTHON = Deno.env.get("MAPPA_PYTHON") ?? "/usr/bin/python3";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Two ranks of `python -m trainer serve` on `out`; resolves once rank 0 listens. */
async function startRanks(out: string) {
  const portFile = join(out, `port-${crypto.randomUUID()}`);
  const master = String(freePort());
  const ranks = [0, 1].map((rank) =>
    new Deno.Command(PYTHON, {
      args: [
        "-m",
        "trainer",
        "serve",
        "--backend",
        "tiny",
        "--out",
        out,
        "--port-file",
        portFile,
        "--threads",
        "1",
        "--dist-timeout-s",
        "20",
      ],
      env: {
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: master,
        WORLD_SIZE: "2",
        RANK: String(rank),
        LOCAL_RANK: String(rank),
      },
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  const deadline = Date.now() + 60_000;
  while (true) {
    const text = await Deno.readTextFile(portFile).catch(() => "");
    if (text.trim()) {
      return { url: `http://127.0.0.1:${text.trim()}`, ranks };
    }
    if (Date.now() > deadline) {
      throw new Error("the 2-rank trainer did not start");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopRanks(ranks: Deno.ChildProcess[]): Promise<void> {
  for (const p of ranks) {
    try {
      p.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  const timer = setTimeout(() => {
    for (const p of ranks) {
      try {
        p.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }, 15_000);
  await Promise.all(ranks.map((p) => p.status));
  clearTimeout(timer);
}

Deno.test("deno task train on a 2-rank trainer: a rank that dies stops the run with the fix, and --resume on a restarted trainer continues", async () => {
  const trainerOut = await Deno.makeTempDir();
  const out = await Deno.makeTempDir();
  let first = await startRanks(trainerOut);
  try {
    const ran = await runCli([
      "train",
      SPEC,
      "--out",
      out,
      "--steps",
      "1",
      "--trainer",
      first.url,
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const dir = join(out, [...Deno.readDirSync(out)][0]!.name);
    const resume = (url: string) =>
      runCli([
        "train",
        SPEC,
        "--out",
        out,
        "--resume",
        dir,
        "--steps",
        "3",
        "--trainer",
        url,
      ]);

    first.ranks[1]!.kill("SIGKILL");
    await first.ranks[1]!.status;
    const broken = await resume(first.url);
    assert.equal(broken.code, 2, broken.stderr);
    // Either the update in flight notices (the rank stopped during it) or the idle heartbeat did first.
    assert.match(
      broken.stderr,
      /rank 1 of 2 stopped|process group is broken/,
    );
    assert.match(broken.stderr, /torchrun/);
    assert.match(broken.stderr, /--resume /);
    await stopRanks(first.ranks);

    first = await startRanks(trainerOut);
    const resumed = await resume(first.url);
    assert.equal(resumed.code, 0, resumed.stderr);
    const lines = (await readMetrics(dir)).filter((l): l is StepLine =>
      l.type === "step"
    );
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
    for (const role of ["drafter", "finisher"]) {
      let version = 0;
      for (const line of lines) {
        assert.equal(line.roles[role]!.version_before, version);
        version = line.roles[role]!.version;
      }
    }
  } finally {
    await stopRanks(first.ranks);
  }
});
