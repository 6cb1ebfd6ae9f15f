// The sections of the training report (report/training_report.ts): each a function of the loaded run.
import { lineChart, type LineSeries } from "./plots.ts";
import {
  callout,
  figures,
  fmtNum,
  type Html,
  html,
  type HtmlValue,
  kvTable,
  table,
} from "./report_html.ts";
import type {
  EvalLine,
  RoleStep,
  StepLine,
  TrainManifest,
} from "../training/mod.ts";

/** A training run as the report reads it. */
export interface TrainingRun {
  readonly dir: string;
  readonly manifest: TrainManifest;
  readonly steps: readonly StepLine[];
  readonly evals: readonly EvalLine[];
}

type Point = [number, number | null];

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function rolesOf(run: TrainingRun): string[] {
  return unique([
    ...run.manifest.train.roles,
    ...run.steps.flatMap((l) => Object.keys(l.roles)),
  ]);
}

function splitsOf(run: TrainingRun): string[] {
  return unique(run.evals.map((l) => l.split));
}

function stepSeries(
  run: TrainingRun,
  keys: readonly string[],
  pick: (line: StepLine, key: string) => number | null | undefined,
): LineSeries[] {
  return keys.map((key) => ({
    name: key,
    points: run.steps.map((l): Point => [l.step, pick(l, key) ?? null]),
  }));
}

function evalSeries(
  run: TrainingRun,
  pick: (line: EvalLine) => number | null | undefined,
  name = (split: string) => split,
): LineSeries[] {
  return splitsOf(run).map((split) => ({
    name: name(split),
    points: run.evals.filter((l) => l.split === split).map((
      l,
    ): Point => [l.step, pick(l) ?? null]),
  }));
}

/** Run A's series solid, then run B's dashed in the colour of A's series of the same name. */
function overlay(
  a: readonly LineSeries[],
  b: readonly LineSeries[] | undefined,
): LineSeries[] {
  const names = a.map((s) => s.name);
  let extra = a.length;
  return [
    ...a.map((s, i) => ({ ...s, color: i })),
    ...(b ?? []).map((s) => {
      const i = names.indexOf(s.name);
      return {
        ...s,
        name: `${s.name} (B)`,
        dashed: true,
        color: i >= 0 ? i : extra++,
      };
    }),
  ];
}

function hasData(series: readonly LineSeries[]): boolean {
  return series.some((s) => s.points.some((p) => p[1] !== null));
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`;
}

/** A rollout or eval run as a link, when it is a plain relative path (the metrics file is run-controlled). */
function runLink(rel: string): HtmlValue {
  const safe = /^[\w.-]+(\/[\w.-]+)*\/?$/.test(rel) &&
    !rel.split("/").includes("..");
  return safe
    ? html`<a href="${rel.endsWith("/") ? rel : `${rel}/`}">${rel}</a>`
    : rel;
}

function rewardMapping(run: TrainingRun): Html {
  const r = run.manifest.train.reward;
  const w = r.outcome_weight;
  const used = unique(run.steps.map((l) => String(l.outcome_weight)));
  const mixed = used.length > 1 || (used.length === 1 && used[0] !== String(w));
  return html`<code>reward = (1 − w)·(score·scale + offset) + w·(outcome·scale + offset)</code>
    with w = outcome_weight <strong>${String(w)}</strong>, scale ${
    String(r.scale)
  }, offset ${String(r.offset)}${
    mixed
      ? html`
        <strong>(steps used outcome_weight ${used.join(", ")})</strong>
      `
      : null
  }`;
}

export function headerSection(run: TrainingRun, against?: TrainingRun): Html {
  const m = run.manifest;
  const t = m.train;
  const done = Math.max(0, ...run.steps.map((l) => l.step));
  const w = t.reward.outcome_weight;
  const mapping = w === 1
    ? callout(
      "warn",
      html`<strong>Shared outcome reward only</strong> (outcome_weight 1): every action of an episode got the same reward, from the episode's outcome. The coach scores charted below were measured but did not train the policies.`,
    )
    : callout(
      "note",
      w === 0
        ? html`<strong>Per-action coach rewards only</strong> (outcome_weight 0): each action was rewarded by its own coach score.`
        : html`<strong>Mixed reward</strong>: each action's coach score weighs ${
          1 - w
        }, the shared episode outcome ${String(w)}.`,
    );
  return html`
    <header>
      <h1>mappa training report: ${m.run_id}</h1>
      ${kvTable([
        [
          "pipeline",
          html`${
            m.run_id.split("__train__")[0] ?? m.run_id
          } (<code>${m.spec_file}</code>)`,
        ],
        ["run id", m.run_id],
        ["status", m.status],
        ["steps", `${done} done / ${t.steps} planned`],
        [
          "trained roles",
          t.roles.map((r) => `${r}@${m.versions[r] ?? 0}`).join(", "),
        ],
        [
          "trainer",
          `${m.trainer} (${t.trainer.backend}${
            t.trainer.base_model ? `, ${t.trainer.base_model}` : ""
          }), ${t.algorithm}`,
        ],
        ["reward mapping", rewardMapping(run)],
        [
          "schedule",
          `${t.tasks_per_step} tasks × ${t.samples_per_task} samples per step from split "${t.split}"; eval every ${t.eval.every} steps on ${
            t.eval.splits.length > 0 ? t.eval.splits.join(", ") : "no split"
          }`,
        ],
      ])}${mapping}${m.status === "completed" ? null : callout(
        "warn",
        `The run is ${m.status}: this report shows the ${run.steps.length} steps written so far.`,
      )}${against
        ? callout(
          "note",
          html`<strong>Comparing two training runs.</strong> A (solid lines): ${m.run_id}, outcome_weight ${
            String(w)
          }. B (dashed lines, series named “… (B)”): ${against.manifest.run_id} from ${against.dir}, outcome_weight ${
            String(against.manifest.train.reward.outcome_weight)
          }.`,
        )
        : null}
    </header>
  `;
}

export function rewardSection(run: TrainingRun, b?: TrainingRun): Html {
  const chart = (
    title: string,
    yLabel: string,
    pick: (l: StepLine, role: string) => number | null | undefined,
  ) =>
    lineChart({
      title,
      yLabel,
      series: overlay(
        stepSeries(run, rolesOf(run), pick),
        b && stepSeries(b, rolesOf(b), pick),
      ),
    });
  return html`
    <section>
      <h2>Reward and coach score</h2>
      <p>Means over each step's samples; a gap is a step where the role had none.</p>
      ${figures([
        chart(
          "Mean reward per role",
          "reward",
          (l, r) => l.roles[r]?.reward_mean,
        ),
        chart(
          "Mean coach score per role",
          "coach score",
          (l, r) => l.roles[r]?.score_mean,
        ),
      ])}
    </section>
  `;
}

function metricsOf(run: TrainingRun): string[] {
  return unique(run.evals.flatMap((l) => Object.keys(l.outcome.metrics)));
}

function evalTable(run: TrainingRun, caption: string): Html {
  const metrics = metricsOf(run);
  const roles = unique(run.evals.flatMap((l) => Object.keys(l.roles)));
  return table(
    [
      "step",
      "split",
      "graded",
      "success rate",
      ...metrics,
      ...roles.map((r) => `${r} score`),
      "run",
    ],
    run.evals.map((l) => [
      l.step,
      l.split,
      `${l.outcome.graded} / ${l.outcome.episodes}${
        l.outcome.ungraded
          ? ` (${l.outcome.ungraded} ungraded: grader failed)`
          : ""
      }`,
      pct(l.outcome.success_rate),
      ...metrics.map((k) => fmtNum(l.outcome.metrics[k])),
      ...roles.map((r) => fmtNum(l.roles[r]?.score_mean)),
      runLink(l.run),
    ]),
    caption,
  );
}

export function evalSection(run: TrainingRun, b?: TrainingRun): Html {
  if (run.evals.length === 0 && (b?.evals.length ?? 0) === 0) {
    return html`
      <section>
        <h2>Evaluation</h2>
        <p>No evaluation ran (set <code>train.eval.splits</code>).</p>
      </section>
    `;
  }
  const success = (r: TrainingRun) => [
    ...evalSeries(r, (l) => l.outcome.success_rate),
    ...stepSeries(r, ["train rollouts"], (l) => l.outcome.success_rate),
  ];
  const scores = (r: TrainingRun) => {
    const roles = unique(r.evals.flatMap((l) => Object.keys(l.roles)));
    const many = splitsOf(r).length > 1;
    return roles.flatMap((role) =>
      evalSeries(
        r,
        (l) => l.roles[role]?.score_mean,
        (split) => many ? `${role} [${split}]` : role,
      )
    );
  };
  const scoreSeries = overlay(scores(run), b && scores(b));
  return html`
    <section>
      <h2>Evaluation</h2>
      ${figures([
        lineChart({
          title: "Success rate per eval split",
          yLabel: "success rate",
          yDomain: [0, 1],
          series: overlay(success(run), b && success(b)),
        }),
        ...unique([...metricsOf(run), ...(b ? metricsOf(b) : [])]).map((k) =>
          lineChart({
            title: `Eval metric ${k} (mean)`,
            yLabel: k,
            series: overlay(
              evalSeries(run, (l) => l.outcome.metrics[k]),
              b && evalSeries(b, (l) => l.outcome.metrics[k]),
            ),
          })
        ),
        hasData(scoreSeries)
          ? lineChart({
            title: "Eval coach score per role",
            yLabel: "coach score",
            series: scoreSeries,
          })
          : null,
      ])}${evalTable(run, b ? "Eval results, run A" : "Eval results")}${b
        ? evalTable(b, "Eval results, run B")
        : null}
    </section>
  `;
}

export function categorySection(run: TrainingRun): Html {
  const cats = unique(run.steps.flatMap((l) => Object.keys(l.categories)));
  return html`
    <section>
      <h2>Coach score by task category</h2>
      <p>Mean coach score of each step's actions per task category: a category that climbs while the others stay flat is a coach that favours one task type.</p>
      ${figures([
        lineChart({
          title: "Coach score by task category",
          yLabel: "coach score",
          series: stepSeries(
            run,
            cats,
            (l, c) => l.categories[c]?.score_mean,
          ),
        }),
      ])}
    </section>
  `;
}

/** A trainer figure of a role's update; `clip_fraction` falls back to `clipfrac` (runs before it existed). */
function trainFigure(
  step: StepLine,
  role: string,
  key: string,
): number | null | undefined {
  const t = step.roles[role]?.train;
  if (t === undefined) return undefined;
  return key === "clip_fraction" ? t.clip_fraction ?? t.clipfrac : t[key];
}

/**
 * The fraction of a role's actions in a step that did not train: masked before sending (unscored,
 * truncated, refused by id, …) plus those the trainer found without a trainable token.
 */
function untrainedFraction(r: RoleStep): number | null {
  const before = Object.values(r.masked).reduce((a, n) => a + n, 0);
  const total = r.samples + before;
  if (total === 0) return null;
  return (before + (r.train?.masked_samples ?? 0)) / total;
}

export function trainerSection(run: TrainingRun): Html {
  const roles = rolesOf(run);
  const chart = (key: string, title: string) =>
    lineChart({
      title: `Trainer ${title} per role`,
      yLabel: title,
      series: stepSeries(run, roles, (l, r) => trainFigure(l, r, key)),
    });
  const rows = run.steps.flatMap((l) =>
    roles.flatMap((role) => {
      const r = l.roles[role];
      if (r === undefined) return [];
      const f = (key: string) => fmtNum(trainFigure(l, role, key), 3);
      return [[
        l.step,
        role,
        r.skipped ? `skipped: ${r.skipped}` : `v${r.version}`,
        f("kl"),
        f("grad_norm"),
        f("clip_fraction"),
        f("entropy"),
        f("optimizer_steps"),
        r.train?.kl_only === 1 ? "KL only" : r.train ? "reward + KL" : "–",
        pct(untrainedFraction(r)),
      ]];
    })
  );
  return html`
    <section>
      <h2>Trainer</h2>
      <p>The trainer's figures for each update; a gap is a skipped update. KL is the token mean of k1 to
      the reference model, clip fraction the share of tokens whose PPO ratio was clipped (0 with one
      epoch and one minibatch: set <code>minibatch_size</code> or <code>epochs</code> for more optimizer
      steps), entropy the policy's mean next-token entropy at the sampled tokens (nats), and refused or
      masked the share of the role's actions that did not train (masked before sending, refused by the
      trainer, or without a trainable token). An update on “KL only” had rewards that were all equal:
      only the KL term moved the policy, toward the reference.</p>
      ${figures([
        chart("loss", "loss"),
        chart("kl", "KL"),
        chart("grad_norm", "grad norm"),
        chart("clip_fraction", "clip fraction"),
        chart("entropy", "entropy"),
        lineChart({
          title: "Refused or masked fraction per role",
          yLabel: "fraction of actions",
          yDomain: [0, 1],
          series: stepSeries(
            run,
            roles,
            (l, r) => l.roles[r] && untrainedFraction(l.roles[r]),
          ),
        }),
      ])}${table(
        [
          "step",
          "role",
          "update",
          "KL",
          "grad norm",
          "clip fraction",
          "entropy",
          "optimizer steps",
          "signal",
          "refused or masked",
        ],
        rows,
        "Trainer figures per step and role",
      )}
    </section>
  `;
}

function maskedText(masked: Readonly<Record<string, number>>): string {
  const parts = Object.entries(masked).filter(([, n]) => n > 0);
  return parts.length === 0
    ? "–"
    : parts.map(([k, n]) => `${k} ${n}`).join(", ");
}

export function skipsSection(run: TrainingRun): Html {
  const roles = rolesOf(run);
  const reasons = unique(
    run.steps.flatMap((l) =>
      Object.values(l.roles).flatMap((r) => Object.keys(r.masked))
    ),
  );
  const of = (role: string) => run.steps.flatMap((l) => l.roles[role] ?? []);
  const summary = table(
    [
      "role",
      "updates",
      "skipped: no_samples",
      "skipped: no_signal",
      "samples sent",
      ...reasons.map((k) => `masked: ${k}`),
    ],
    roles.map((role) => [
      role,
      of(role).filter((r) => r.skipped === undefined).length,
      of(role).filter((r) => r.skipped === "no_samples").length,
      of(role).filter((r) => r.skipped === "no_signal").length,
      of(role).reduce((n, r) => n + r.samples, 0),
      ...reasons.map((k) =>
        of(role).reduce((n, r) => n + (r.masked[k] ?? 0), 0)
      ),
    ]),
    "Totals per role",
  );
  const rows = run.steps.flatMap((l) =>
    Object.entries(l.roles).filter(([, r]) =>
      r.skipped !== undefined || maskedText(r.masked) !== "–"
    ).map(([role, r]) => [
      l.step,
      role,
      r.skipped
        ? `skipped: ${r.skipped}`
        : `v${r.version_before} → v${r.version}`,
      r.samples,
      maskedText(r.masked),
    ])
  );
  return html`
    <section>
      <h2>Skipped updates and masked samples</h2>
      ${summary}${rows.length === 0
        ? html`<p>No update was skipped and no sample was masked.</p>`
        : table(
          ["step", "role", "update", "samples sent", "masked"],
          rows,
          "Steps with a skipped update or masked samples",
        )}
    </section>
  `;
}

export function stepsSection(run: TrainingRun): Html {
  const roles = rolesOf(run);
  return html`
    <section>
      <h2>Steps</h2>
      ${table(
        [
          "step",
          "rollouts",
          "success rate",
          ...roles.flatMap((
            r,
          ) => [`${r} reward`, `${r} score`, `${r} version`]),
        ],
        run.steps.map((l) => [
          l.step,
          runLink(l.run),
          pct(l.outcome.success_rate),
          ...roles.flatMap((r) => {
            const s = l.roles[r];
            return [
              fmtNum(s?.reward_mean),
              fmtNum(s?.score_mean),
              s ? `v${s.version}${s.skipped ? " (skipped)" : ""}` : "–",
            ];
          }),
        ]),
      )}
    </section>
  `;
}
