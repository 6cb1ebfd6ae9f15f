// study.json, study.md and study.html of `deno task study`, built from the runs' metrics.jsonl only.
import { join } from "node:path";
import { lineChart, PLOT_CSS } from "../report/plots.ts";
import {
  type BandPoint,
  bands,
  type EvalPoint,
  meanSuccess,
  type StepsSummary,
  stepsToThreshold,
  summarizeSteps,
} from "./study_stats.ts";

/** One training run of the study, as planned and as found on disk. */
export interface StudyRun {
  readonly mode: string;
  readonly outcome_weight: number;
  readonly coach_flip: number;
  readonly seed: number;
  /** The training run directory (null: it never started). */
  readonly dir: string | null;
  readonly status: string;
}

/** One run's figures, read from its metrics.jsonl. */
export interface RunFigures extends StudyRun {
  readonly evals: { step: number; success_rate: number; graded: number }[];
  readonly steps_done: number;
  readonly steps_to_50: number | null;
  readonly steps_to_95: number | null;
  readonly final_success: number | null;
  readonly mean_success: number | null;
}

/** A mode at one coach-flip rate, over its seeds. */
export interface CellSummary {
  readonly mode: string;
  readonly outcome_weight: number;
  readonly coach_flip: number;
  readonly seeds: number[];
  readonly bands: BandPoint[];
  readonly steps_to_50: StepsSummary;
  readonly steps_to_95: StepsSummary;
  readonly final_success: { mean: number; min: number; max: number } | null;
  readonly mean_success: { mean: number; min: number; max: number } | null;
}

/** study.json. */
export interface StudyReport {
  readonly kind: "study";
  readonly spec: string;
  readonly command: string;
  readonly machine: string;
  readonly created_at: string;
  readonly steps: number;
  readonly seeds: number[];
  readonly coach_flips: number[];
  readonly coach_bias: { category: string; points: number } | null;
  /** Success of the untrained policies: every run's step-0 eval pooled. */
  readonly chance: { episodes: number; successes: number; rate: number | null };
  readonly cells: CellSummary[];
  /** Per flip rate: does per-action beat outcome-only (mean success over evals), and the best mode. */
  readonly noise: {
    coach_flip: number;
    per_action_minus_outcome: number | null;
    best_mode: string | null;
  }[];
  /** The mode whose worst mean success over the flip rates is highest (null with one flip rate). */
  readonly most_robust: string | null;
  readonly runs: RunFigures[];
}

/** Reads a run's eval lines (its first eval split) from metrics.jsonl. */
export async function readRunFigures(run: StudyRun): Promise<RunFigures> {
  const evals: RunFigures["evals"] = [];
  let steps = 0;
  if (run.dir !== null) {
    const text = await Deno.readTextFile(join(run.dir, "metrics.jsonl"))
      .catch(() => "");
    let split: string | undefined;
    for (const raw of text.split("\n")) {
      if (raw.trim() === "") continue;
      let line;
      try {
        line = JSON.parse(raw);
      } catch {
        continue; // a torn last line of an interrupted run
      }
      if (line.type === "step") steps = Math.max(steps, line.step);
      if (line.type !== "eval" || line.outcome?.success_rate == null) continue;
      split ??= line.split;
      if (line.split !== split) continue;
      evals.push({
        step: line.step,
        success_rate: line.outcome.success_rate,
        graded: line.outcome.graded ?? 0,
      });
    }
  }
  evals.sort((a, b) => a.step - b.step);
  const points: EvalPoint[] = evals;
  return {
    ...run,
    evals,
    steps_done: steps,
    steps_to_50: stepsToThreshold(points, 0.5),
    steps_to_95: stepsToThreshold(points, 0.95),
    final_success: evals.at(-1)?.success_rate ?? null,
    mean_success: meanSuccess(points),
  };
}

function range(xs: readonly number[]) {
  if (xs.length === 0) return null;
  return {
    mean: xs.reduce((s, x) => s + x, 0) / xs.length,
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
}

/** Summarizes runs into the report (no I/O). */
export function buildStudyReport(
  runs: readonly RunFigures[],
  meta: Pick<
    StudyReport,
    | "spec"
    | "command"
    | "machine"
    | "steps"
    | "seeds"
    | "coach_flips"
    | "coach_bias"
  >,
): StudyReport {
  const done = runs.filter((r) => r.status === "completed");
  const cells: CellSummary[] = [];
  for (const flip of meta.coach_flips) {
    const modes = [...new Map(runs.map((r) => [r.mode, r.outcome_weight]))];
    for (const [mode, w] of modes) {
      const mine = done.filter((r) =>
        r.mode === mode && (w === 1 || r.coach_flip === flip)
      );
      cells.push({
        mode,
        outcome_weight: w,
        coach_flip: flip,
        seeds: mine.map((r) => r.seed),
        bands: bands(mine.map((r) => r.evals)),
        steps_to_50: summarizeSteps(mine.map((r) => r.steps_to_50)),
        steps_to_95: summarizeSteps(mine.map((r) => r.steps_to_95)),
        final_success: range(
          mine.flatMap((r) =>
            r.final_success === null ? [] : [r.final_success]
          ),
        ),
        mean_success: range(
          mine.flatMap((r) => r.mean_success === null ? [] : [r.mean_success]),
        ),
      });
    }
  }
  const noise = meta.coach_flips.map((flip) => {
    const at = cells.filter((c) => c.coach_flip === flip && c.mean_success);
    const pa = at.find((c) => c.outcome_weight === 0)?.mean_success?.mean;
    const out = at.find((c) => c.outcome_weight === 1)?.mean_success?.mean;
    const best = [...at].sort((a, b) =>
      b.mean_success!.mean - a.mean_success!.mean
    )[0];
    return {
      coach_flip: flip,
      per_action_minus_outcome: pa !== undefined && out !== undefined
        ? pa - out
        : null,
      best_mode: best?.mode ?? null,
    };
  });
  let mostRobust: string | null = null;
  if (meta.coach_flips.length > 1) {
    let worstBest = -Infinity;
    for (const mode of new Set(cells.map((c) => c.mode))) {
      const worst = Math.min(
        ...cells.filter((c) => c.mode === mode).map((c) =>
          c.mean_success?.mean ?? -Infinity
        ),
      );
      if (worst > worstBest) [worstBest, mostRobust] = [worst, mode];
    }
  }
  let episodes = 0;
  let successes = 0;
  for (const r of done) {
    const first = r.evals[0];
    if (first?.step !== 0) continue;
    episodes += first.graded;
    successes += Math.round(first.success_rate * first.graded);
  }
  return {
    kind: "study",
    ...meta,
    created_at: new Date().toISOString(),
    chance: {
      episodes,
      successes,
      rate: episodes > 0 ? successes / episodes : null,
    },
    cells,
    noise,
    most_robust: mostRobust,
    runs: [...runs],
  };
}

const pct = (x: number | null | undefined) =>
  x == null ? "–" : `${(100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

function stepsCell(s: StepsSummary): string {
  if (s.of === 0) return "–";
  const med = s.median === null ? "not reached" : String(s.median);
  if (s.reached === 0) return `not reached (0/${s.of})`;
  const hi = s.max === null ? "not reached" : String(s.max);
  return `${med} [${s.min}–${hi}] (${s.reached}/${s.of})`;
}

/** study.md: the summary table per flip rate, then the band table. */
export function studyMarkdown(r: StudyReport): string {
  const out: string[] = [
    `# Study: ${r.spec}`,
    "",
    `Command: \`${r.command}\`  `,
    `Machine: ${r.machine}  `,
    `Steps: ${r.steps}; seeds: ${r.seeds.join(", ")}; written ${r.created_at}`,
    "",
    `Chance success (every run's step-0 eval, untrained policies): ${r.chance.successes} of ${r.chance.episodes} episodes (${
      r.chance.rate === null ? "–" : (100 * r.chance.rate).toFixed(2) + "%"
    }).`,
    "",
    "Steps to 50% / 95% eval success: median [min–max] (seeds that reached it); eval success after the last step: mean [min–max]; mean success over all evals (area under the curve): mean [min–max].",
    "",
  ];
  for (const flip of r.coach_flips) {
    if (r.coach_flips.length > 1 || flip !== 0 || r.coach_bias) {
      out.push(
        `## Coach flip ${flip}${
          r.coach_bias
            ? `, bias +${r.coach_bias.points} on ${r.coach_bias.category}`
            : ""
        }`,
        "",
      );
    }
    out.push(
      "| mode | outcome_weight | seeds | steps to 50% | steps to 95% | final success | mean success |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const c of r.cells.filter((c) => c.coach_flip === flip)) {
      const f = c.final_success;
      const m = c.mean_success;
      out.push(
        `| ${c.mode} | ${c.outcome_weight} | ${c.seeds.length} | ${
          stepsCell(c.steps_to_50)
        } | ${stepsCell(c.steps_to_95)} | ${
          f ? `${pct(f.mean)} [${pct(f.min)}–${pct(f.max)}]` : "–"
        } | ${m ? `${pct(m.mean)} [${pct(m.min)}–${pct(m.max)}]` : "–"} |`,
      );
    }
    out.push("");
    const cells = r.cells.filter((c) => c.coach_flip === flip);
    const steps = [...new Set(cells.flatMap((c) => c.bands.map((b) => b.step)))]
      .sort((a, b) => a - b);
    out.push(
      "Eval success per step, mean [min–max] over seeds:",
      "",
      `| step | ${cells.map((c) => c.mode).join(" | ")} |`,
      `| --- | ${cells.map(() => "---").join(" | ")} |`,
    );
    for (const s of steps) {
      out.push(
        `| ${s} | ${
          cells.map((c) => {
            const b = c.bands.find((b) => b.step === s);
            return b ? `${pct(b.mean)} [${pct(b.min)}–${pct(b.max)}]` : "–";
          }).join(" | ")
        } |`,
      );
    }
    out.push("");
  }
  if (r.coach_flips.length > 1) {
    out.push(
      "## Coach noise",
      "",
      "| coach flip | per-action − outcome-only (mean success) | best mode |",
      "| --- | --- | --- |",
      ...r.noise.map((n) =>
        `| ${n.coach_flip} | ${
          n.per_action_minus_outcome === null
            ? "–"
            : `${(100 * n.per_action_minus_outcome).toFixed(1)} points`
        } | ${n.best_mode ?? "–"} |`
      ),
      "",
      `Most robust mode (highest worst-case mean success over the flip rates): ${
        r.most_robust ?? "–"
      }. Outcome-only ignores the coach, so its runs are shared by every flip rate.`,
      "",
    );
  }
  const failed = r.runs.filter((x) => x.status !== "completed");
  if (failed.length > 0) {
    out.push(
      `Not in the figures (${failed.length} runs not completed): ${
        failed.map((x) =>
          `${x.mode} flip ${x.coach_flip} seed ${x.seed} (${x.status})`
        )
          .join(", ")
      }`,
      "",
    );
  }
  return out.join("\n");
}

/** study.html: one chart per flip rate, each mode's mean with its min and max dashed. */
export function studyHtml(r: StudyReport): string {
  const charts = r.coach_flips.map((flip) => {
    const cells = r.cells.filter((c) => c.coach_flip === flip);
    return lineChart({
      title: `Eval success, coach flip ${flip}`,
      yLabel: "success",
      yDomain: [0, 1],
      series: cells.flatMap((c, i) => [
        {
          name: `${c.mode} mean`,
          color: i,
          points: c.bands.map((b) => [b.step, b.mean] as const),
        },
        {
          name: `${c.mode} min`,
          color: i,
          dashed: true,
          points: c.bands.map((b) => [b.step, b.min] as const),
        },
        {
          name: `${c.mode} max`,
          color: i,
          dashed: true,
          points: c.bands.map((b) => [b.step, b.max] as const),
        },
      ]),
    });
  });
  const esc = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<!doctype html><meta charset="utf-8"><title>Study ${
    esc(r.spec)
  }</title><style>${PLOT_CSS}body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto}</style>
<h1>Study: ${esc(r.spec)}</h1>${charts.join("\n")}<pre>${
    esc(studyMarkdown(r))
  }</pre>\n`;
}
