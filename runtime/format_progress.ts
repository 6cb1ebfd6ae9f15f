import type { RunSummary } from "./run_summary.ts";

function tokens(n: number): string {
  return n >= 1e6
    ? `${(n / 1e6).toFixed(1)}M`
    : n >= 1e3
    ? `${(n / 1e3).toFixed(1)}k`
    : String(n);
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${
      String(Math.floor((s % 3600) / 60)).padStart(2, "0")
    }m`
    : s >= 60
    ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
    : `${s}s`;
}

/** One progress line: episodes done and failed, actions, tokens, cost, elapsed time and ETA. */
export function formatProgress(s: Readonly<RunSummary>): string {
  // Episodes done before resuming are in the counts (the summary covers the whole run), not in this session's.
  const finished = s.episodes_done + s.episodes_failed - s.episodes_skipped;
  const todo = s.episodes_total - s.episodes_skipped;
  const eta = finished > 0 && finished < todo
    ? `, eta ${duration((s.wall_ms / finished) * (todo - finished))}`
    : "";
  return `episodes ${finished}/${todo}${
    s.episodes_failed > 0 ? ` (${s.episodes_failed} failed)` : ""
  }${
    s.ungraded > 0 ? ` (${s.ungraded} ungraded: grader failed)` : ""
  }, actions ${s.actions}, tokens ${
    tokens(s.prompt_tokens + s.completion_tokens)
  }, cost $${s.cost_usd.toFixed(4)}, ${duration(s.wall_ms)}${eta}`;
}

/** The closing summary of a run, as lines of text. */
export function formatSummary(s: Readonly<RunSummary>): string[] {
  const lines = [
    `run ${s.run_id}: ${s.status}${
      s.policy === "demo"
        ? " (demo policy: scripted replies answered some or all roles; they are not a model's)"
        : ""
    }`,
    `  episodes: ${s.episodes_done} completed, ${s.episodes_failed} failed of ${s.episodes_total}${
      s.episodes_skipped > 0
        ? ` (${s.episodes_skipped} of them done before resuming)`
        : ""
    }`,
    `  actions: ${s.actions} (${
      Object.entries(s.actions_per_role).map(([r, n]) => `${r} ${n}`).join(
        ", ",
      ) || "none"
    })`,
    `  model errors: ${s.model_errors}; tool executions: ${s.tool_executions}, ${s.tool_errors} not ok; contract violations: ${s.contract_violations}`,
    `  tokens: ${tokens(s.prompt_tokens)} in, ${
      tokens(s.completion_tokens)
    } out; cost $${s.cost_usd.toFixed(4)}; time ${duration(s.wall_ms)}`,
    `  run directory: ${s.run_dir}`,
  ];
  if (s.ungraded > 0) {
    lines.splice(
      2,
      0,
      `  ungraded (grader failed): ${s.ungraded} episode${
        s.ungraded === 1 ? "" : "s"
      }, not counted as the agents' failures; their outcome rewards are masked`,
    );
  }
  const failedInMeans = Object.values(s.by_category).reduce(
    (n, c) => n + (c.failed ?? 0),
    0,
  );
  if (s.graded > 0 || failedInMeans > 0) {
    const rate = (n: number, d: number) =>
      d > 0 ? `${(100 * n / d).toFixed(1)}%` : "n/a";
    const perCategory = Object.entries(s.by_category).sort((
      [x],
      [y],
    ) => (x < y ? -1 : 1)).map(([category, c]) => {
      const metrics = Object.entries(c.metrics).map(([k, v]) =>
        `${k} ${Number(v.toFixed(4))}`
      ).join(", ");
      const failed = c.failed ?? 0;
      return `    ${category}: ${c.successes}/${c.graded} (${
        rate(c.successes, c.graded)
      }); means${
        failed > 0
          ? ` (${failed} failed episode${
            failed === 1 ? "" : "s"
          } at fair values)`
          : ""
      }: ${metrics || "none"}`;
    });
    lines.splice(
      2,
      0,
      `  success: ${s.successes}/${s.graded} graded episodes (${
        rate(s.successes, s.graded)
      })`,
      ...perCategory,
    );
  }
  return lines;
}
