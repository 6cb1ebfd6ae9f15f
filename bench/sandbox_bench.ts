// deno-lint-ignore-file no-console
/**
 * What does the bubblewrap jail cost per execution? Times, interleaved, a bare subprocess against the
 * same program through `BwrapSandbox.exec()` (and through `UnsafeSandbox.exec()`, the same harness
 * without the jail), and prints medians and ratios. The jail runs with its per-jail limits on (a cgroup
 * per execution where the host allows it, the jail CPU check and the workspace quota watcher); the
 * header names the enforcement (backend "bwrap-v1+cg1", "+cg2" or "+rlimit"); `bwrap-rl` is the same jail
 * with rlimits only, so the difference is what the cgroup costs.
 *
 *   deno run -A bench/sandbox_bench.ts            # 40 runs for fast programs, 12 for imports
 *   deno run -A bench/sandbox_bench.ts 100 20
 *   deno run -A bench/sandbox_bench.ts 60 0 print # only the cases whose name contains "print"
 */
import type { ExecLimits, ExecRequest, Sandbox } from "../runtime/ports.ts";
import { BwrapSandbox } from "../runtime/sandbox/bwrap_sandbox.ts";
import { UnsafeSandbox } from "../runtime/sandbox/unsafe_sandbox.ts";
import { inheritedDescriptors } from "../runtime/sandbox/_host_tools.ts";

const FAST_RUNS = Number(Deno.args[0] ?? 40);
const SLOW_RUNS = Number(Deno.args[1] ?? 12);
const ONLY = Deno.args[2] ?? "";
const SLOT = 90;
const LIMITS: ExecLimits = {
  wall_ms: 60_000,
  cpu_s: 60,
  memory_mb: 4096,
  output_cap_bytes: 65_536,
  kill_output_bytes: 64 << 20,
  file_size_mb: 512,
  nproc: 128,
};

interface Case {
  readonly name: string;
  readonly language: ExecRequest["language"];
  readonly code: string;
  readonly runs: number;
  /** The bare baseline: argv of a plain subprocess, given the workspace and a program file. */
  readonly bare: (workspace: string, program: string) => string[];
}

const CASES: Case[] = [
  {
    name: "python3 -I -c 'print(1)'",
    language: "python",
    code: "print(1)",
    runs: FAST_RUNS,
    bare: () => ["/usr/bin/python3", "-I", "-c", "print(1)"],
  },
  {
    name: "import pandas, sklearn",
    language: "python",
    code: "import pandas, sklearn",
    runs: SLOW_RUNS,
    bare: () => ["/usr/bin/python3", "-c", "import pandas, sklearn"],
  },
  {
    name: "deno run trivial.ts",
    language: "typescript",
    code: "const n: number = 6 * 7;\nif (n !== 42) throw new Error('math');",
    runs: FAST_RUNS,
    bare: (ws, program) => [
      Deno.execPath(),
      "run",
      "--no-prompt",
      `--allow-read=${ws}`,
      `--allow-write=${ws}`,
      program,
    ],
  },
];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(xs: number[]): { median: number; p10: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
  };
}

async function timeBare(argv: string[], denoDir: string): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { DENO_DIR: denoDir, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return ms;
}

async function timeSandbox(
  sandbox: Sandbox,
  c: Case,
  workspace: string,
): Promise<number> {
  const t = performance.now();
  const r = await sandbox.exec({
    language: c.language,
    code: c.code,
    workspace,
    limits: LIMITS,
    slot: SLOT,
  });
  const ms = performance.now() - t;
  if (r.status !== "ok") {
    throw new Error(`${c.name}: ${r.status} ${r.stderr.text}`);
  }
  return ms;
}

const bwrap = await BwrapSandbox.create();
// The same jail with per-process rlimits only (no cgroup), to show what the cgroup costs.
const rlimit = new BwrapSandbox(bwrap.options, {
  ...bwrap.guarantees,
  cgroup_limits: false,
  limits: "rlimit",
});
const unsafe = new UnsafeSandbox({
  iUnderstandThisRunsAgentCodeWithoutIsolation: true,
});
const root = await Deno.makeTempDir({ prefix: "mappa-bench-" });
await Deno.chmod(root, 0o755);
const workspace = `${root}/ws`;
await Deno.mkdir(workspace, { mode: 0o755 });
const program = `${root}/trivial.ts`;

// The launcher is dash, or bash when this process inherited a descriptor above 9 that it must close.
const inherited = inheritedDescriptors();
const shell = inherited.some((fd) => fd > 9) ? "bash" : "dash";
console.log(
  `sandbox_bench: Deno ${Deno.version.deno}, ${bwrap.guarantees.bwrap_version}, ${navigator.hardwareConcurrency} CPUs, uid switch ${bwrap.guarantees.uid_switch}, backend ${bwrap.backend}, launcher ${shell} (inherited fds [${inherited}]), load average ${
    Deno.loadavg()[0]!.toFixed(1)
  }`,
);
console.log(
  "medians of interleaved runs, ms [p10-p90]; ratio = median / bare median\n",
);
try {
  for (const c of CASES) {
    if (!c.name.includes(ONLY) || c.runs === 0) continue;
    await Deno.writeTextFile(program, c.code);
    const argv = c.bare(workspace, program);
    // Warm-up: disk cache, Deno's module cache for the bare run.
    await timeBare(argv, `${root}/deno`);
    await timeSandbox(bwrap, c, workspace);
    const times: Record<string, number[]> = {
      bare: [],
      bwrap: [],
      "bwrap-rl": [],
      unsafe: [],
    };
    const variants = Object.keys(times);
    for (let i = 0; i < c.runs; i++) {
      // Rotate the order so drift in machine load hits every variant alike.
      const k = i % variants.length;
      for (const v of [...variants.slice(k), ...variants.slice(0, k)]) {
        times[v]!.push(
          v === "bare"
            ? await timeBare(argv, `${root}/deno`)
            : await timeSandbox(
              v === "bwrap" ? bwrap : v === "bwrap-rl" ? rlimit : unsafe,
              c,
              workspace,
            ),
        );
      }
    }
    const base = summary(times.bare!).median;
    console.log(
      `${c.name} (${c.runs} runs each, load average ${
        Deno.loadavg()[0]!.toFixed(1)
      })`,
    );
    for (const [label, xs] of Object.entries(times)) {
      const s = summary(xs);
      console.log(
        `  ${label.padEnd(8)} ${s.median.toFixed(1).padStart(7)} [${
          s.p10.toFixed(1)
        }-${s.p90.toFixed(1)}]  ${(s.median / base).toFixed(2)}x`,
      );
    }
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
