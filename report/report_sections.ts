import { barChart } from "./plots.ts";
import type { ReportGraph } from "./report_graph.ts";
import type { RunData } from "./report_data.ts";
import type { OutcomeBasis } from "./report_rows.ts";
import {
  callout,
  figures,
  fmtNum,
  fmtPct,
  fmtUsd,
  type Html,
  html,
  kvTable,
  table,
} from "./report_html.ts";
import { mean } from "./stats.ts";

// The run-wide sections of the report: header, outcomes, and tool errors and contract violations per role.

type Rec = Record<string, unknown>;

function get(r: Readonly<Rec>, ...path: string[]): unknown {
  let v: unknown = r;
  for (const p of path) {
    v = typeof v === "object" && v !== null ? (v as Rec)[p] : undefined;
  }
  return v;
}

function text(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "–";
}

function sumCost(costs: readonly (number | null)[]): number | null {
  const known = costs.filter((c): c is number => c !== null);
  return known.length === 0 && costs.length > 0
    ? null
    : known.reduce((a, b) => a + b, 0);
}

function agentCost(data: RunData, demo: boolean): string {
  const cost = sumCost(data.actions.map((a) => a.cost_usd));
  if (cost !== null) return fmtUsd(cost);
  return demo
    ? "no cost (scripted demo replies)"
    : "cost unknown (no price recorded)";
}

/** Judge cost of every layer, for the header. */
export function judgeCost(data: RunData): number | null {
  return sumCost(
    data.layers.flatMap((l) =>
      l.verdicts.filter((v) => !v.judge.cache_hit).map((v) =>
        v.judge.kind === "deterministic" ? 0 : v.judge.cost_usd
      )
    ),
  );
}

/**
 * The header: run, spec, policy (a loud box when the demo policy produced the replies), models, sandbox,
 * status, time and cost.
 */
export function headerSection(
  data: RunData,
  graph: ReportGraph,
  builtAt: Date,
): Html {
  const m = data.manifest;
  const policy = text(m.policy);
  const demo = policy === "demo" ||
    data.actions.length > 0 && graph.role_models.length > 0 &&
      graph.role_models.every((r) =>
        r.model !== null && graph.models[r.model]?.provider === "scripted"
      );
  const models = graph.role_models.map((r) => {
    const mm = r.model !== null ? graph.models[r.model] : undefined;
    return html`<div><b>${r.role}</b>: ${r.model ?? "–"}${
      mm
        ? html`
          (${mm.model}; family ${mm.family ??
            "unknown"}${mm.family_inferred && mm.family
            ? ", guessed"
            : ""}; ${mm.provider})
        `
        : null
    }</div>`;
  });
  const coach = graph.coach_model ? graph.models[graph.coach_model] : undefined;
  const wall = get(m, "summary", "wall_ms");
  const tokens = data.actions.reduce((a, x) => a + x.tokens, 0);
  const rows: [string, Html | string][] = [
    ["Run", text(m.run_id)],
    ["Pipeline", graph.name ?? "–"],
    [
      "Spec",
      html`${text(m.spec_file)} <span class="muted">sha256 ${
        text(m.spec_hash).slice(0, 12)
      }</span>`,
    ],
    [
      "Policy",
      html`<b>${policy}</b>${
        demo ? " — scripted demo replies, no model was called" : ""
      }. ${typeof m.policy_note === "string" ? m.policy_note : ""}`,
    ],
    ["Agent models", html`${models}`],
    [
      "Coach model",
      graph.coach_model
        ? html`${graph.coach_model}${coach ? ` (${coach.model})` : ""}`
        : "none",
    ],
    // An llm_judge outcome: who judged it, and a demo judge's scripted verdicts said loudly.
    ...(typeof get(m, "environment", "outcome_judge") === "string"
      ? [[
        "Outcome judge",
        text(get(m, "environment", "outcome_judge")),
      ] as [string, string]]
      : []),
    ["Sandbox", text(m.sandbox_backend)],
    ["Status", text(m.status)],
    ["Started", text(m.created_at)],
    ["Finished", text(m.finished_at)],
    [
      "Wall time",
      typeof wall === "number" ? `${(wall / 1000).toFixed(1)} s` : "–",
    ],
    ["Episodes / actions", `${data.episodes.length} / ${data.actions.length}`],
    [
      "Agent tokens and cost",
      `${tokens} tokens, ${agentCost(data, demo)}`,
    ],
    [
      "Judge cost",
      `${fmtUsd(judgeCost(data))} over ${data.layers.length} score layer(s)`,
    ],
    ["Report built", builtAt.toISOString()],
  ];
  return html`<header><h1>mappa run report: ${text(m.run_id)}</h1>${
    demo
      ? callout(
        "demo",
        html`DEMO POLICY: the pipeline's scripted demo replies produced every agent action in this run; no model was called. Outcomes and scores below describe the script, not a model.`,
      )
      : null
  }${kvTable(rows)}${
    data.unreadable_lines > 0
      ? callout(
        "warn",
        `${data.unreadable_lines} line(s) of events.jsonl or outcomes.jsonl are not JSON and were skipped`,
      )
      : null
  }</header>`;
}

/** Outcomes: episode status, graded success rate (or "not graded"), per category, metrics and failures. */
export function outcomesSection(data: RunData, basis: OutcomeBasis): Html {
  const eps = data.episodes;
  const count = (p: (e: typeof eps[number]) => boolean) => eps.filter(p).length;
  const completed = count((e) => e.status === "completed");
  const failed = count((e) => e.status === "failed");
  const graded = eps.filter((e) => e.success !== null);
  const wins = graded.filter((e) => e.success).length;
  const ungraded = eps.filter((e) => e.ungraded !== undefined);
  const rate = basis.graded
    ? `${fmtPct(wins, graded.length)} (${wins} of ${graded.length} graded)`
    : "not graded";
  const cats = [...new Set(eps.map((e) => e.category))].sort();
  const perCat = cats.map((c) => {
    const es = eps.filter((e) => e.category === c);
    const g = es.filter((e) => e.success !== null);
    return {
      c,
      n: es.length,
      done: es.filter((e) => e.status === "completed").length,
      wins: g.filter((e) => e.success).length,
      graded: g.length,
    };
  });
  const metricNames = [...new Set(eps.flatMap((e) => Object.keys(e.metrics)))]
    .sort();
  const failures = eps.filter((e) => e.status !== "completed").slice(0, 20);
  const chart = barChart({
    title: basis.graded
      ? "Success and completion rate by task category"
      : "Completion rate by task category",
    categories: perCat.map((p) => p.c),
    series: [
      ...(basis.graded
        ? [{
          name: "success",
          values: perCat.map((p) => p.graded ? p.wins / p.graded : null),
        }]
        : []),
      {
        name: "completed",
        values: perCat.map((p) => p.n ? p.done / p.n : null),
      },
    ],
    yLabel: "rate",
    xLabel: "task category",
    domain: [0, 1.1],
    format: (v) => `${Math.round(v * 100)}%`,
  });
  return html`<section><h2>Outcomes</h2>${
    basis.graded ? null : callout(
      "note",
      "Not graded: this run holds no outcome records (outcomes.jsonl or graded episodes), so success is unknown; the completion status is shown instead.",
    )
  }${
    ungraded.length > 0
      ? callout(
        "warn",
        `Ungraded (grader failed): the grader could not grade ${ungraded.length} episode(s) for an infrastructure reason, so they count neither as successes nor as failures and their outcome rewards are masked: ${
          ungraded.slice(0, 5).map((e) => `${e.episode_id} (${e.ungraded})`)
            .join("; ")
        }${ungraded.length > 5 ? "; …" : ""}`,
      )
      : null
  }${
    table([
      "episodes",
      "completed",
      "failed",
      "not finished",
      "ungraded (grader failed)",
      "success rate",
    ], [
      [
        eps.length,
        completed,
        failed,
        eps.length - completed - failed,
        ungraded.length,
        rate,
      ],
    ])
  }${figures([chart])}${
    table(
      ["task category", "episodes", "completed", "success rate"],
      perCat.map((p) => [
        p.c,
        p.n,
        p.done,
        basis.graded
          ? `${fmtPct(p.wins, p.graded)} (${p.wins}/${p.graded})`
          : "not graded",
      ]),
    )
  }${
    metricNames.length > 0
      ? table(
        ["outcome metric", "episodes", "mean"],
        metricNames.map((k) => {
          const vs = eps.map((e) => e.metrics[k]).filter((v): v is number =>
            v !== undefined
          );
          return [k, vs.length, fmtNum(mean(vs), 3)];
        }),
      )
      : null
  }${
    failures.length > 0
      ? table(
        ["episode not completed", "status", "error"],
        failures.map((e) => [e.episode_id, e.status, e.error ?? ""]),
        failures.length < eps.length - completed ? "first 20 shown" : undefined,
      )
      : null
  }</section>`;
}

/** Tool errors, model errors and contract violations per role. */
export function errorsSection(data: RunData, graph: ReportGraph): Html {
  const roles = [
    ...new Set([
      ...graph.role_models.map((r) => r.role),
      ...data.actions.map((a) => a.role),
    ]),
  ];
  const stats = roles.map((role) => {
    const acts = data.actions.filter((a) => a.role === role);
    const byStatus: Record<string, number> = {};
    for (const a of acts) {
      for (const [s, n] of Object.entries(a.tool_errors)) {
        byStatus[s] = (byStatus[s] ?? 0) + n;
      }
    }
    const fins = data.finishes.filter((f) => f.role === role);
    const missing = [...new Set(fins.flatMap((f) => f.missing_required))];
    return {
      role,
      actions: acts.length,
      modelErrors: acts.filter((a) => !a.model_ok).length,
      executions: acts.reduce((n, a) => n + a.executions, 0),
      toolErrors: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      violations: fins.filter((f) =>
        f.missing_required.length > 0 || f.invalid.length > 0
      ).length,
      missingInputs: fins.filter((f) =>
        f.missing_inputs.length > 0
      ).length,
      missing,
    };
  });
  const chart = barChart({
    title: "Errors and contract violations by role",
    categories: stats.map((s) => s.role),
    series: [
      { name: "tool errors", values: stats.map((s) => s.toolErrors) },
      { name: "model errors", values: stats.map((s) => s.modelErrors) },
      { name: "contract violations", values: stats.map((s) => s.violations) },
    ],
    yLabel: "count",
    xLabel: "role",
  });
  return html`<section><h2>Tool errors and contract violations</h2>${
    figures([chart])
  }${
    table(
      [
        "role",
        "actions",
        "model errors",
        "tool executions",
        "tool errors (by status)",
        "contract violations",
        "missing inputs",
        "required files missing",
      ],
      stats.map((s) => [
        s.role,
        s.actions,
        s.modelErrors,
        s.executions,
        s.toolErrors === 0
          ? "0"
          : `${s.toolErrors} (${
            Object.entries(s.byStatus).map(([k, n]) => `${k} ${n}`).join(", ")
          })`,
        s.violations,
        s.missingInputs,
        s.missing.slice(0, 8).join(", "),
      ]),
      "A contract violation is a role that finished with required files missing or artifacts invalid.",
    )
  }</section>`;
}
