import { html } from "./report_html.ts";
import { reportPage, writeReportFile } from "./report_page.ts";
import {
  type EvalLine,
  readMetrics,
  readTrainManifest,
  type StepLine,
} from "../training/mod.ts";
import {
  categorySection,
  evalSection,
  headerSection,
  rewardSection,
  skipsSection,
  stepsSection,
  trainerSection,
  type TrainingRun,
} from "./_training_sections.ts";

// `deno task report <training run> [--against <run>]`: the training curves as one self-contained HTML
// file, built like the run report (report/run_report.ts): inline SVG and CSS, no scripts, nothing fetched.

/** Options of `buildTrainingReport` and `writeTrainingReport`. */
export interface TrainingReportOptions {
  /**
   * Another training run directory (run B) whose reward, score and eval curves are overlaid dashed and
   * named "<series> (B)": how per-action coach rewards compare with the outcome-only reward.
   * @default undefined
   */
  readonly against?: string;
}

async function loadTrainingRun(
  dir: string,
  action: string,
): Promise<TrainingRun> {
  const manifest = await readTrainManifest(dir, action);
  // A resumed run may repeat a step or an eval: the last line written wins.
  const steps = new Map<number, StepLine>();
  const evals = new Map<string, EvalLine>();
  for (const line of await readMetrics(dir)) {
    if (line.type === "step") steps.set(line.step, line);
    else evals.set(JSON.stringify([line.step, line.split]), line);
  }
  return {
    dir,
    manifest,
    steps: [...steps.values()].sort((a, b) => a.step - b.step),
    evals: [...evals.values()].sort((a, b) =>
      a.step - b.step || a.split.localeCompare(b.split)
    ),
  };
}

/**
 * Builds the HTML report of a training run directory: header (pipeline, status, steps, trained roles and
 * versions, trainer, reward mapping), reward and coach score per role, eval success and metrics per split,
 * eval coach scores, coach score per task category, trainer loss, KL, grad norm, clip fraction, entropy and
 * refused or masked fraction per role (charts and a table), an eval table, skipped
 * updates and masked samples, and links to every rollout and eval run. Every run string is escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTrainingReport } from "./training_report.ts";
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(buildTrainingReport(dir), /it has no train\.json/);
 * await Deno.remove(dir);
 * ```
 */
export async function buildTrainingReport(
  dir: string,
  options: TrainingReportOptions = {},
): Promise<string> {
  const action = `write the report of ${dir}`;
  const run = await loadTrainingRun(dir, action);
  const b = options.against === undefined ? undefined : await loadTrainingRun(
    options.against,
    `read ${options.against} to compare ${dir} against`,
  );
  const body = html`${headerSection(run, b)}${rewardSection(run, b)}${
    evalSection(run, b)
  }${categorySection(run)}${trainerSection(run)}${skipsSection(run)}${
    stepsSection(run)
  }`;
  return reportPage(`mappa training report: ${run.manifest.run_id}`, body, dir);
}

/**
 * Builds the training report and writes it to `<dir>/report.html` through a temporary file and a rename;
 * returns the path written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTrainingReport } from "./training_report.ts";
 * const dir = await Deno.makeTempDir();
 * const train = {
 *   roles: ["solver"], algorithm: "reinforce_pp", steps: 10, tasks_per_step: 8, samples_per_task: 2, split: "train",
 *   reward: { scale: 0.1, offset: 0, unscored: "mask", outcome_weight: 1 },
 *   eval: { every: 4, splits: [], samples_per_task: 1, coach: false },
 *   trainer: { url: "local", backend: "tiny" },
 * };
 * await Deno.writeTextFile(`${dir}/train.json`, JSON.stringify({
 *   kind: "training", run_id: "demo__train__0__1", status: "running", spec_file: "demo.yaml", train,
 *   trainer: "local", versions: { solver: 0 },
 * }));
 * const path = await writeTrainingReport(dir);
 * assert.match(await Deno.readTextFile(path), /Shared outcome reward only/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTrainingReport(
  dir: string,
  options: TrainingReportOptions = {},
): Promise<string> {
  return await writeReportFile(dir, await buildTrainingReport(dir, options));
}
