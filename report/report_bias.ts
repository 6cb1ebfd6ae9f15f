import { barChart, scatter } from "./plots.ts";
import {
  categoryGap,
  familyClashes,
  layerAgreement,
  lengthCorrelation,
} from "./bias.ts";
import type { ReportGraph } from "./report_graph.ts";
import type { ReportLayer } from "./report_data.ts";
import type { OutcomeBasis, ScoredAction } from "./report_rows.ts";
import { callout, figures, type Html, html, table } from "./report_html.ts";
import { fix, type Scale } from "./report_layer.ts";

// The coach-bias section (`report --bias`): per layer the category gap conditioned on outcome and score
// against response length; once per run the judge/agent family check and the agreement of the layers.

/** A gap smaller than this share of the scale is not flagged. */
const GAP_FLAG = 0.05;
/** |ρ| from which a length correlation is flagged, with at least LENGTH_MIN_N actions. */
const LENGTH_FLAG = 0.3;
const LENGTH_MIN_N = 10;

function signed(v: number | null): string {
  return v === null
    ? "–"
    : `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(2)}`;
}

function gapPart(
  rows: readonly ScoredAction[],
  basis: OutcomeBasis,
  scale: Scale,
): Html {
  const g = categoryGap(rows);
  if (g.high === null || g.low === null) {
    return html`
      <h3>Category gap conditioned on outcome</h3>
      <p>Only one task category has scores: there is no gap to measure.</p>
    `;
  }
  const range = scale
    ? scale.max - scale.min
    : Math.max(1, ...rows.map((r) => r.score)) -
      Math.min(0, ...rows.map((r) => r.score));
  const flagged = g.gap_success !== null && g.gap_failure !== null &&
    Math.sign(g.gap_success) === Math.sign(g.gap_failure) &&
    Math.min(Math.abs(g.gap_success), Math.abs(g.gap_failure)) >=
      GAP_FLAG * range;
  const chart = barChart({
    title: "Mean score by task category, within each outcome",
    categories: g.categories.map((c) => c.category),
    series: [
      {
        name: "success",
        values: g.categories.map((c) => c.success.mean),
      },
      {
        name: "failure",
        values: g.categories.map((c) => c.failure.mean),
      },
    ],
    yLabel: "mean score",
    xLabel: "task category",
    ...(scale
      ? { domain: [Math.min(0, scale.min), scale.max * 1.1] as const }
      : {}),
    format: (v) => v.toFixed(2),
  });
  const roles = [...new Set(rows.map((r) => r.role))].sort();
  return html`
    <h3>Category gap conditioned on outcome</h3>
    <p
      class="muted">A coach that favours a task type scores it higher among successes and among failures alike (MAPPA: regression above classification). Comparing pooled means confounds that with different success rates. Outcome: ${basis
        .label}.</p>${flagged
        ? callout(
          "warn",
          `Possible category bias: "${g.high}" scores above "${g.low}" by ${
            signed(g.gap_success)
          } within successful and ${
            signed(g.gap_failure)
          } within failed episodes.`,
        )
        : null}${figures([chart])}${table(
          [
            "task category",
            "mean | success (n)",
            "mean | failure (n)",
            "mean | all (n)",
          ],
          g.categories.map((c) => [
            c.category,
            `${fix(c.success.mean)} (${c.success.n})`,
            `${fix(c.failure.mean)} (${c.failure.n})`,
            `${fix(c.all.mean)} (${c.all.n})`,
          ]),
        )}${table(
          [
            "gap",
            "within successes",
            "within failures",
            "conditioned (mean of the two)",
            "pooled",
          ],
          [[
            `${g.high} − ${g.low}`,
            signed(g.gap_success),
            signed(g.gap_failure),
            signed(g.gap_conditioned),
            signed(g.gap_overall),
          ]],
        )}${table(
          [
            "role",
            "gap pair",
            "within successes",
            "within failures",
            "conditioned",
          ],
          roles.map((role) => {
            const r = categoryGap(rows.filter((x) => x.role === role));
            return [
              role,
              r.high ? `${r.high} − ${r.low}` : "–",
              signed(r.gap_success),
              signed(r.gap_failure),
              signed(r.gap_conditioned),
            ];
          }),
          "Per role (each role's own highest and lowest category)",
        )}
  `;
}

function lengthPart(rows: readonly ScoredAction[], scale: Scale): Html {
  const c = lengthCorrelation(rows);
  const roles = [...new Set(rows.map((r) => r.role))].sort();
  const flagged = c.overall.rho !== null && c.overall.n >= LENGTH_MIN_N &&
    Math.abs(c.overall.rho) >= LENGTH_FLAG;
  const chart = scatter({
    title: "Score against response length",
    series: roles.map((role) => ({
      name: role,
      points: rows.filter((r) => r.role === role).map((r) =>
        [r.reply_chars, r.score] as const
      ),
    })),
    xLabel: "reply length (characters)",
    yLabel: "score",
    ...(scale ? { yDomain: [scale.min, scale.max] as const } : {}),
  });
  return html`
    <h3>Score against response length</h3>${flagged
      ? callout(
        "warn",
        `Scores follow reply length (Spearman ρ = ${
          fix(c.overall.rho, 3)
        } over ${c.overall.n} actions): check the judge for a verbosity bias.`,
      )
      : null}${figures([chart])}${table(
        ["role", "actions", "Spearman ρ (length, score)"],
        [...c.roles.map((r) => [r.role, r.n, fix(r.rho, 3)]), [
          "all roles",
          c.overall.n,
          fix(c.overall.rho, 3),
        ]],
      )}
  `;
}

/** The bias analyses of one layer. */
export function layerBiasPart(
  layer: ReportLayer,
  rows: readonly ScoredAction[],
  basis: OutcomeBasis,
  scale: Scale,
): Html {
  if (rows.length === 0) return html``;
  return html`<section><h2>Coach bias: <code>${layer.name}</code></h2>${
    gapPart(rows, basis, scale)
  }${lengthPart(rows, scale)}</section>`;
}

/** The run-wide bias checks: judge and agent model families, and agreement between score layers. */
export function runBiasPart(
  graph: ReportGraph,
  layers: readonly ReportLayer[],
): Html {
  const clashes = familyClashes(graph, layers);
  const users = (id: string) => [
    ...graph.role_models.filter((r) => r.model === id).map((r) => r.role),
    ...(graph.coach_model === id ? ["coach (spec)"] : []),
    ...layers.filter((l) => l.verdicts.some((v) => v.judge.model === id))
      .map((l) => `judge of ${l.name}`),
  ];
  const models = Object.values(graph.models);
  const agreement = layerAgreement(layers);
  const first = agreement?.pairs[0];
  return html`<section><h2>Coach bias: judge and agent models</h2>${
    clashes.map((c) =>
      callout(
        "warn",
        `Judge and agent share a model family: judge "${c.judge}" (${c.source}) and role(s) ${
          c.roles.map((r) => `"${r}"`).join(", ")
        } are both family "${c.family}"${
          c.inferred
            ? " (guessed from model names; declare `family` on the models to be sure)"
            : ""
        }. Judges tend to prefer their own family's text (self-preference); use a judge of another family or a panel.`,
      )
    )
  }${
    clashes.length === 0
      ? html`<p>No judge shares a model family with an agent.</p>`
      : null
  }${
    table(
      ["model id", "model", "family", "provider", "used by"],
      models.map((m) => [
        m.id,
        m.model,
        m.family === null
          ? "unknown"
          : m.family_inferred
          ? `${m.family} (guessed)`
          : m.family,
        m.provider,
        users(m.id).join(", "),
      ]),
    )
  }<h2>Agreement between score layers</h2>${
    agreement === null
      ? html`<p>${layers.length} score layer(s) with scores: agreement needs two (rescore the run with another judge or rubric).</p>`
      : html`<p>Krippendorff's α (interval) over ${agreement.layers.length} layers and ${agreement.units} actions scored by at least two: <b>α = ${
        fix(agreement.alpha, 3)
      }</b>.</p>${
        table(
          [
            "layer A",
            "layer B",
            "actions",
            "Cohen's κ (rounded scores)",
            "κ quadratic-weighted",
            "Spearman ρ",
            "mean |A − B|",
          ],
          agreement.pairs.map((p) => [
            p.a,
            p.b,
            p.n,
            fix(p.kappa, 3),
            fix(p.kappa_quadratic, 3),
            fix(p.spearman, 3),
            fix(p.mean_abs_diff),
          ]),
        )
      }${
        first && first.points.length > 0
          ? figures([scatter({
            title: "Scores of the same actions under two layers",
            series: [{ name: "actions", points: first.points }],
            xLabel: first.a,
            yLabel: first.b,
            diagonal: true,
          })])
          : null
      }`
  }</section>`;
}
