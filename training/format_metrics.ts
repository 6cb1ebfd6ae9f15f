import type { MetricsLine } from "./metrics.ts";

const num = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined ? "-" : v.toFixed(digits);
const pct = (v: number | null) => v === null ? "-" : `${(v * 100).toFixed(1)}%`;

/**
 * One line of progress for a metrics record, as `deno task train` prints it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMetricsLine } from "./format_metrics.ts";
 * const line = formatMetricsLine({
 *   type: "eval", step: 0, ts: "", seconds: 1, split: "eval", run: "evals/step_0000_eval",
 *   versions: { a: 0 }, outcome: { episodes: 4, graded: 4, success_rate: 0.5, metrics: { correct: 0.5 } },
 *   roles: {}, categories: {},
 * }, 10);
 * assert.match(line, /eval after step 0 \[eval\]: success 50\.0%/);
 * ```
 */
export function formatMetricsLine(line: MetricsLine, steps: number): string {
  if (line.type === "eval") {
    const roles = Object.entries(line.roles).map(([r, s]) =>
      `${r} ${num(s.score_mean)}`
    );
    return `eval after step ${line.step} [${line.split}]: success ${
      pct(line.outcome.success_rate)
    } of ${line.outcome.graded} graded${
      line.outcome.ungraded
        ? `, ${line.outcome.ungraded} ungraded (grader failed)`
        : ""
    }${roles.length > 0 ? `; coach score ${roles.join(", ")}` : ""}; ${
      line.seconds.toFixed(1)
    }s`;
  }
  const roles = Object.entries(line.roles).map(([r, s]) => {
    const what = s.skipped
      ? `skipped (${s.skipped})`
      : `v${s.version} loss ${num(s.train?.loss, 3)} kl ${num(s.train?.kl, 4)}`;
    return `${r}: reward ${num(s.reward_mean)} score ${
      num(s.score_mean)
    } (${s.samples} samples) ${what}`;
  });
  return `step ${line.step}/${steps}  ${roles.join("  ")}  success ${
    pct(line.outcome.success_rate)
  }${
    line.outcome.ungraded
      ? ` (${line.outcome.ungraded} ungraded: grader failed)`
      : ""
  }  ${line.seconds.toFixed(1)}s`;
}
