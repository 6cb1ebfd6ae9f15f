// deno-lint-ignore-file no-console -- a command-line tool
// `deno task study <spec>`: trains the spec per-action (outcome_weight 0), outcome-only (1) and mixed (0.5)
// over several seeds, each run a `deno task train` subprocess in its own directory, then writes
// study.json, study.md and study.html (issue 15 items 3 and 4). A finished run is never trained again: run
// the same command to resume the study (an unfinished run is resumed with --resume).
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, renderDiagnostics } from "../dsl/mod.ts";
import {
  buildStudyReport,
  readRunFigures,
  studyHtml,
  studyMarkdown,
  type StudyRun,
} from "./study_report.ts";

const USAGE =
  `deno task study <spec> [--seeds N] [--first-seed K] [--steps S] [--modes per_action,outcome,mixed]
                        [--coach-flip 0,0.1,...] [--coach-bias CATEGORY:POINTS] [--out DIR] [--report-only]
  modes: per_action (outcome_weight 0), outcome (1), mixed (0.5), or a number (that weight)`;

const NAMED: Record<string, number> = { per_action: 0, outcome: 1, mixed: 0.5 };
const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

function fail(message: string): never {
  console.error(`study: ${message}\n${USAGE}`);
  Deno.exit(2);
}

function list(text: string, what: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isFinite(n)) fail(`bad ${what} "${s}"`);
    return n;
  });
}

/** The training run a study directory holds, if any: its path and train.json status. */
async function findRun(
  out: string,
): Promise<{ dir: string; status: string; steps: number } | null> {
  try {
    for await (const e of Deno.readDir(out)) {
      if (!e.isDirectory) continue;
      const dir = join(out, e.name);
      const manifest = await Deno.readTextFile(join(dir, "train.json"))
        .then(JSON.parse, () => null);
      if (manifest === null) continue;
      return {
        dir,
        status: manifest.status,
        steps: manifest.train?.steps ?? 0,
      };
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return null;
}

function machine(): string {
  const cpu = (() => {
    try {
      return Deno.readTextFileSync("/proc/cpuinfo").match(
        /model name\s*:\s*(.+)/,
      )?.[1]?.trim();
    } catch {
      return undefined;
    }
  })();
  const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  return `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs${
    cpu ? ` (${cpu})` : ""
  }, load average at the end ${load}, deno ${Deno.version.deno}`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      seeds: { type: "string", default: "5" },
      "first-seed": { type: "string", default: "1" },
      steps: { type: "string" },
      modes: { type: "string", default: "per_action,outcome,mixed" },
      "coach-flip": { type: "string", default: "0" },
      "coach-bias": { type: "string" },
      out: { type: "string" },
      "report-only": { type: "boolean", default: false },
    },
  });
  const spec = positionals[0];
  if (spec === undefined || positionals.length > 1) fail("name one spec");
  // A spec that does not compile would fail every run: say why once, before training anything.
  const compiled = compileFile(spec);
  if (!compiled.ok) {
    console.error(renderDiagnostics(compiled.diagnostics, compiled.sources));
    console.error(`study: fix ${spec} (see above), then run the study again`);
    return 1;
  }
  const nSeeds = Number(values.seeds);
  const first = Number(values["first-seed"]);
  if (!Number.isSafeInteger(nSeeds) || nSeeds < 1) fail("--seeds must be >= 1");
  if (!Number.isSafeInteger(first)) fail("--first-seed must be whole");
  const seeds = Array.from({ length: nSeeds }, (_, i) => first + i);
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isSafeInteger(steps) && steps >= 1)) {
    fail("--steps must be >= 1");
  }
  const modes = values.modes.split(",").map((m) => {
    const w = NAMED[m] ?? Number(m);
    if (m.trim() === "" || !(w >= 0 && w <= 1)) fail(`unknown mode "${m}"`);
    return { mode: m in NAMED ? m : `w${m}`, weight: w };
  });
  const flips = list(values["coach-flip"], "--coach-flip");
  if (flips.some((f) => !(f >= 0 && f <= 1))) fail("flips are from 0 to 1");
  let bias: { category: string; points: number } | null = null;
  if (values["coach-bias"] !== undefined) {
    const [category, points] = [
      values["coach-bias"].slice(0, values["coach-bias"].lastIndexOf(":")),
      Number(values["coach-bias"].split(":").at(-1)),
    ];
    if (category === "" || !Number.isFinite(points)) {
      fail("--coach-bias CATEGORY:POINTS");
    }
    bias = { category, points };
  }
  const name = spec.split("/").at(-1)!.replace(/\.[^.]+$/, "");
  const out = values.out ?? join("runs", `study_${name}`);
  await Deno.mkdir(out, { recursive: true });

  // Outcome-only (weight 1) never reads the coach: one set of runs serves every flip rate.
  const plan: {
    mode: string;
    weight: number;
    flip: number;
    seed: number;
    key: string;
  }[] = [];
  for (const flip of flips) {
    for (const { mode, weight } of modes) {
      if (weight === 1 && flip !== flips[0]) continue;
      const noisy = weight < 1 && (flip > 0 || bias !== null);
      const tag = noisy
        ? `_flip${flip}${bias ? `_bias_${bias.category}${bias.points}` : ""}`
        : "";
      for (const seed of seeds) {
        plan.push({
          mode,
          weight,
          flip: weight === 1 ? flips[0]! : flip,
          seed,
          key: `${mode}${tag}/seed_${seed}`,
        });
      }
    }
  }
  const runs: StudyRun[] = [];
  let i = 0;
  for (const p of plan) {
    i++;
    const dirOut = join(out, "runs", p.key);
    let found = await findRun(dirOut);
    const want = steps ?? found?.steps;
    const complete = found?.status === "completed" &&
      (want === undefined || found.steps >= want);
    if (!complete && !values["report-only"]) {
      const noisy = p.weight < 1 && (p.flip > 0 || bias !== null);
      const argv = [
        "run",
        "-A",
        CLI,
        "train",
        spec,
        "--seed",
        String(p.seed),
        "--outcome-weight",
        String(p.weight),
        "--out",
        dirOut,
        ...(steps !== undefined ? ["--steps", String(steps)] : []),
        ...(found ? ["--resume", found.dir] : []),
        ...(noisy ? ["--coach-flip", String(p.flip)] : []),
        ...(noisy && bias
          ? ["--coach-bias", `${bias.category}:${bias.points}`]
          : []),
      ];
      const t0 = performance.now();
      console.error(
        `[${i}/${plan.length}] ${p.key}${found ? " (resuming)" : ""} ...`,
      );
      await Deno.mkdir(dirOut, { recursive: true });
      const res = await new Deno.Command(Deno.execPath(), {
        args: argv,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      await Deno.writeTextFile(
        join(dirOut, `train_${Date.now()}.log`),
        dec.decode(res.stdout) + dec.decode(res.stderr),
      );
      found = await findRun(dirOut);
      // A failed train says why in its last line (mappa: Cannot …); the whole output is in the log.
      const why = res.code === 0
        ? ""
        : `: ${
          dec.decode(res.stderr).trim().split("\n").at(-1)?.slice(0, 300) ?? ""
        }`;
      console.error(
        `[${i}/${plan.length}] ${p.key}: ${
          found?.status ?? "no run"
        } (exit ${res.code}, ${
          ((performance.now() - t0) / 1000).toFixed(0)
        } s)${why}`,
      );
    } else {
      console.error(
        `[${i}/${plan.length}] ${p.key}: ${found?.status ?? "not run"}`,
      );
    }
    runs.push({
      mode: p.mode,
      outcome_weight: p.weight,
      coach_flip: p.flip,
      seed: p.seed,
      dir: found?.dir ?? null,
      status: found?.status ?? "missing",
    });
  }
  const figures = await Promise.all(runs.map(readRunFigures));
  const report = buildStudyReport(figures, {
    spec,
    command: `deno task study ${args.join(" ")}`,
    machine: machine(),
    steps: steps ?? Math.max(0, ...figures.map((f) => f.steps_done)),
    seeds,
    coach_flips: flips,
    coach_bias: bias,
  });
  await Deno.writeTextFile(
    join(out, "study.json"),
    JSON.stringify(report, null, 2) + "\n",
  );
  await Deno.writeTextFile(join(out, "study.md"), studyMarkdown(report));
  await Deno.writeTextFile(join(out, "study.html"), studyHtml(report));
  console.log(studyMarkdown(report));
  console.log(`study: ${out}/study.json, study.md, study.html`);
  return runs.every((r) => r.status === "completed") ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
