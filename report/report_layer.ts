import { barChart } from "./plots.ts";
import {
  boxPlot,
  type DistributionSeries,
  histogram,
} from "./plots_distribution.ts";
import { keyOf, type ReportLayer, type RunData } from "./report_data.ts";
import type { OutcomeBasis, ScoredAction } from "./report_rows.ts";
import {
  callout,
  figures,
  fmtNum,
  fmtPct,
  fmtUsd,
  type Html,
  html,
  table,
} from "./report_html.ts";
import { auc, pointBiserial } from "./report_stats.ts";
import { mean, summarize } from "./stats.ts";

// One score layer's section: distributions per role and per category, scores against outcomes,
// unscored verdicts, judge calls and cost, and the lowest-scored actions with what the agent wrote.

/** The scale a layer's plots use: the rubric's, else the data's range. */
export type Scale = { readonly min: number; readonly max: number } | null;

const EXCERPT = 600;

/** A mean with 2 decimals, or "–". */
export function fix(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? "–"
    : v.toFixed(digits);
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...m.get(key(x)) ?? [], x]);
  return new Map([...m].sort((a, b) => a[0].localeCompare(b[0])));
}

/** The scores of each group (by name), as the distribution plots and the summary tables take them. */
function scoreSeries(
  groups: Map<string, ScoredAction[]>,
): DistributionSeries[] {
  return [...groups].map(([name, rows]) => ({
    name,
    values: rows.map((r) => r.score),
  }));
}

function summaryRows(
  series: readonly DistributionSeries[],
  unscored: Map<string, number>,
): (string | number)[][] {
  return series.map(({ name: k, values }) => {
    const s = summarize(values);
    return [
      k,
      s.n,
      unscored.get(k) ?? 0,
      fix(s.mean),
      fix(s.sd),
      fix(s.median),
      fmtNum(s.min),
      fmtNum(s.max),
    ];
  });
}

/**
 * Per role, the mean of its scores within each episode, split by the episode's outcome: one value per
 * episode, so a role acting many times in an episode does not outweigh the others.
 */
export function roleEpisodeScores(
  rows: readonly ScoredAction[],
): Map<string, { success: number[]; failure: number[] }> {
  const out = new Map<string, { success: number[]; failure: number[] }>();
  for (const [role, rs] of groupBy(rows, (r) => r.role)) {
    const entry = { success: [] as number[], failure: [] as number[] };
    for (const eps of groupBy(rs, (r) => r.episode_id).values()) {
      const outcome = eps[0]!.success;
      if (outcome === null) continue;
      (outcome ? entry.success : entry.failure).push(
        mean(eps.map((r) => r.score))!,
      );
    }
    out.set(role, entry);
  }
  return out;
}

function outcomePart(
  rows: readonly ScoredAction[],
  basis: OutcomeBasis,
  scale: Scale,
): Html {
  const byRole = roleEpisodeScores(rows);
  const roles = [...byRole.keys()];
  const chart = barChart({
    title: "Mean score of successful vs failed episodes, by role",
    categories: roles,
    series: [
      {
        name: "success",
        values: roles.map((r) => mean(byRole.get(r)!.success)),
      },
      {
        name: "failure",
        values: roles.map((r) => mean(byRole.get(r)!.failure)),
      },
    ],
    yLabel: "mean score",
    xLabel: "role",
    ...(scale
      ? { domain: [Math.min(0, scale.min), scale.max * 1.1] as const }
      : {}),
    format: (v) => v.toFixed(2),
  });
  return html`
    <h3>Scores against outcomes</h3><p
      class="muted">Outcome: ${basis
        .label}. Per episode, a role's score is the mean of its scored actions. AUC is the chance that a successful episode's score beats a failed one's (0.5 = no signal); r is the point-biserial correlation.</p>
    ${figures([chart])}${table(
      [
        "role",
        "episodes (success / failure)",
        "mean | success",
        "mean | failure",
        "difference",
        "AUC",
        "r",
      ],
      roles.map((role) => {
        const { success, failure } = byRole.get(role)!;
        const ms = mean(success), mf = mean(failure);
        return [
          role,
          `${success.length} / ${failure.length}`,
          fix(ms),
          fix(mf),
          ms !== null && mf !== null ? fix(ms - mf) : "–",
          fix(auc(success, failure), 3),
          fix(pointBiserial(success, failure), 3),
        ];
      }),
    )}
  `;
}

function judgePart(layer: ReportLayer): Html {
  const byRole = groupBy(layer.verdicts, (v) => v.role);
  const row = (label: string, vs: typeof layer.verdicts) => {
    const fresh = vs.filter((v) => !v.judge.cache_hit);
    const costs = fresh.map((v) =>
      v.judge.kind === "deterministic" ? 0 : v.judge.cost_usd
    );
    const known = costs.filter((c): c is number => c !== null);
    return [
      label,
      fresh.reduce((n, v) => n + v.judge.attempts, 0),
      vs.length - fresh.length,
      fresh.reduce(
        (n, v) => n + v.judge.prompt_tokens + v.judge.completion_tokens,
        0,
      ),
      known.length === 0 && costs.length > 0
        ? fmtUsd(null)
        : fmtUsd(known.reduce((a, b) => a + b, 0)),
      fix(mean(fresh.map((v) => v.judge.latency_ms)), 0),
    ];
  };
  const judges = [
    ...new Set(
      layer.verdicts.map((v) =>
        `${v.judge.kind}${v.judge.model_name ? ` ${v.judge.model_name}` : ""}`
      ),
    ),
  ];
  return html`<h3>Judge calls and cost</h3><p>Judges: ${
    judges.join(", ") || "none"
  }</p>${
    table(
      [
        "role",
        "judge calls",
        "cache hits",
        "tokens",
        "cost",
        "mean latency (ms)",
      ],
      [
        ...[...byRole].map(([r, vs]) => row(r, vs)),
        row("all roles", layer.verdicts),
      ],
    )
  }`;
}

function unscoredPart(layer: ReportLayer): Html {
  const un = layer.verdicts.filter((v) =>
    v.status === "unscored" || v.score === null
  );
  if (un.length === 0) {
    return html`
      <h3>Unscored</h3>
      <p>Every verdict has a score.</p>
    `;
  }
  const reasons = groupBy(un, (v) => v.reason ?? "unknown");
  return html`<h3>Unscored</h3><p>${un.length} of ${layer.verdicts.length} verdicts (${
    fmtPct(un.length, layer.verdicts.length)
  }) have no score; they are left out of every statistic above.</p>${
    table(
      ["reason", "verdicts", "by role"],
      [...reasons].map(([reason, vs]) => [
        reason,
        vs.length,
        [...groupBy(vs, (v) => v.role)].map(([r, x]) => `${r} ${x.length}`)
          .join(", "),
      ]),
    )
  }`;
}

function lowestPart(data: RunData, layer: ReportLayer): Html {
  const replies = new Map(data.actions.map((a) => [a.key, a.reply]));
  const low = layer.verdicts.filter((v) => v.score !== null)
    .sort((a, b) => a.score! - b.score!).slice(0, 5);
  if (low.length === 0) return html``;
  return html`<h3>Lowest-scored actions</h3>${
    table(
      [
        "score",
        "role",
        "episode / action",
        "judge reasoning",
        "reply (excerpt)",
      ],
      low.map((v) => {
        const reply = replies.get(keyOf(v)) ?? "";
        return [
          fmtNum(v.score),
          v.role,
          `${v.episode_id} / ${v.action_index}`,
          html`<pre>${v.reasoning.slice(0, EXCERPT)}</pre>`,
          html`<pre>${reply.slice(0, EXCERPT)}${
            reply.length > EXCERPT ? "…" : ""
          }</pre>`,
        ];
      }),
    )
  }`;
}

/**
 * Actions of finished episodes that the layer's rubric scores but that have no verdict in it: never judged
 * (a run stopped before its judge call) — and, apart, failed model calls, which are never judged.
 */
export function unjudgedActions(
  data: RunData,
  layer: ReportLayer,
  roleRubrics: readonly { readonly role: string; readonly rubric: string }[],
): { readonly unjudged: number; readonly failed_calls: number } {
  const name = layer.name.slice(0, layer.name.lastIndexOf("@"));
  const roles = new Set(
    roleRubrics.filter((r) =>
      r.rubric === name || `${r.rubric}_rejudged` === name
    ).map((r) => r.role),
  );
  const finished = new Set(
    data.episodes.filter((e) => e.status !== "running").map((e) =>
      e.episode_id
    ),
  );
  const judged = new Set(
    layer.verdicts.map((v) => keyOf(v)),
  );
  let unjudged = 0;
  let failedCalls = 0;
  for (const a of data.actions) {
    if (!roles.has(a.role) || !finished.has(a.episode_id)) continue;
    if (!a.model_ok) failedCalls++;
    else if (!judged.has(a.key)) unjudged++;
  }
  return { unjudged, failed_calls: failedCalls };
}

/** The section of one score layer. */
export function layerSection(
  data: RunData,
  layer: ReportLayer,
  rows: readonly ScoredAction[],
  basis: OutcomeBasis,
  scale: Scale,
  missing: { readonly unjudged: number; readonly failed_calls: number } = {
    unjudged: 0,
    failed_calls: 0,
  },
): Html {
  const head = html`<h2>Score layer <code>${layer.name}</code></h2>`;
  if (layer.error !== null) {
    return html`<section>${head}${callout("warn", layer.error)}</section>`;
  }
  const missingNote = missing.unjudged > 0
    ? callout(
      "warn",
      `${missing.unjudged} action${
        missing.unjudged === 1 ? "" : "s"
      } of finished episodes ${
        missing.unjudged === 1 ? "has" : "have"
      } no verdict in this layer (the run stopped before they were judged): finish them with deno task run <spec> --resume ${data.dir}, or deno task rescore.`,
    )
    : null;
  const unscored = layer.verdicts.filter((v) => v.score === null);
  const unByRole = new Map(
    [...groupBy(unscored, (v) => v.role)].map(([k, v]) => [k, v.length]),
  );
  const episodes = new Map(
    data.episodes.map((e) => [e.episode_id, e.category]),
  );
  const unByCat = new Map(
    [...groupBy(unscored, (v) => episodes.get(v.episode_id) ?? "(none)")].map((
      [k, v],
    ) => [k, v.length]),
  );
  const byRole = scoreSeries(groupBy(rows, (r) => r.role));
  const byCat = scoreSeries(groupBy(rows, (r) => r.category));
  const range = scale ? { domain: [scale.min, scale.max] as const } : {};
  const box = (title: string, series: readonly DistributionSeries[]) =>
    boxPlot({ title, series, yLabel: "score", ...range });
  const plots = rows.length === 0
    ? callout("note", "No scored verdicts: nothing to plot.")
    : figures([
      histogram({
        title: "Score distribution (stacked by role)",
        series: byRole,
        xLabel: "score",
        ...range,
      }),
      box("Scores by role", byRole),
      box("Scores by task category", byCat),
    ]);
  const head6 = [
    "",
    "scored",
    "unscored",
    "mean",
    "sd",
    "median",
    "min",
    "max",
  ];
  return html`<section>${head}<p>${layer.verdicts.length} verdicts, ${rows.length} scored, ${unscored.length} unscored (${
    fmtPct(unscored.length, layer.verdicts.length)
  }); ${missing.unjudged} without a verdict${
    missing.failed_calls > 0
      ? `; ${missing.failed_calls} failed model calls, not judged`
      : ""
  }; scale ${
    scale
      ? `${scale.min}–${scale.max}`
      : "unknown (not in the manifest's graph)"
  }.${
    layer.dropped > 0
      ? ` ${layer.dropped} verdicts on earlier attempts or unknown actions are left out.`
      : ""
  }</p>${missingNote}${plots}${
    table(
      ["role", ...head6.slice(1)],
      summaryRows(byRole, unByRole),
      "Scores per role",
    )
  }${
    table(
      ["task category", ...head6.slice(1)],
      summaryRows(byCat, unByCat),
      "Scores per task category",
    )
  }${outcomePart(rows, basis, scale)}${unscoredPart(layer)}${judgePart(layer)}${
    lowestPart(data, layer)
  }</section>`;
}
