import { programProblem } from "../program_source.ts";
import type { RuleContext, RuleReport } from "../rule_context.ts";
import type { Outcome, SingleOutcome } from "../schema.ts";
import { nodeAt, type SpecNode } from "../source_tree.ts";

export { includedFrom } from "../program_source.ts";

type Path = readonly (string | number)[];

/** Most metrics one command or function grader may declare. */
export const MAX_DECLARED_METRICS = 64;

function metricProblems(
  metrics: Readonly<
    Record<
      string,
      {
        min?: number | undefined;
        max?: number | undefined;
        comparable?: boolean | undefined;
      }
    >
  >,
  at: Path,
  kind: string,
  out: RuleReport[],
): void {
  const names = Object.keys(metrics);
  if (names.length === 0) {
    out.push({
      code: "too_small",
      path: [...at, "params", "metrics"],
      message:
        `Cannot grade with a ${kind} grader that declares no metrics: success rules and rewards read them`,
      hint:
        "declare at least one, e.g. metrics: { pass_rate: { min: 0, max: 1 } }",
    });
  }
  if (names.length > MAX_DECLARED_METRICS) {
    out.push({
      code: "too_big",
      path: [...at, "params", "metrics"],
      message:
        `Cannot declare ${names.length} metrics for one ${kind} grader: at most ${MAX_DECLARED_METRICS}`,
      hint: "report fewer, coarser metrics",
    });
  }
  for (const [name, m] of Object.entries(metrics)) {
    // Run-summary means average comparable metrics across tasks: only a 0 to 1 scale makes that sound.
    if (
      m.comparable &&
      (m.min === undefined || m.max === undefined || m.min < 0 || m.max > 1)
    ) {
      out.push({
        code: "invalid_value",
        path: [...at, "params", "metrics", name, "comparable"],
        message:
          `Cannot average metric "${name}" across tasks: a comparable metric must declare a range within 0 to 1 (min ${
            m.min ?? "unset"
          }, max ${m.max ?? "unset"})`,
        hint: "declare min: 0 and max: 1, or drop comparable",
      });
    }
    if (m.min !== undefined && m.max !== undefined && m.min > m.max) {
      out.push({
        code: "invalid_value",
        path: [...at, "params", "metrics", name, "max"],
        message:
          `Cannot declare metric "${name}" with max ${m.max} below min ${m.min}: no value could be valid`,
        hint: "swap min and max",
      });
    }
  }
}

function singleProblems(
  o: SingleOutcome,
  at: Path,
  root: SpecNode,
  out: RuleReport[],
): void {
  if (o.grader === "command") {
    const problem = programProblem(o.params, [...at, "params"], root, {
      missingAt: [...at, "grader"],
      missing:
        "Cannot run the command grader: it has no program (script or code)",
      both:
        "Cannot run the command grader: it has both script and code, and runs one program",
      notIncluded:
        "Cannot read the command grader's program: script must be a file:// include, not inline text or a plain path",
      unknownExtension: (origin, ext) =>
        `Cannot tell the language of the command grader's script "${origin}": its extension "${ext}" is none of .py, .ts, .js, .mjs`,
      noLanguage:
        "Cannot tell the language of the command grader's inline code: it has no language",
      folder: "graders",
      languageIn: "params",
    });
    if (problem !== undefined) out.push(problem);
    metricProblems(o.params.metrics, at, "command", out);
  } else if (o.grader === "function") {
    const loc = nodeAt(root, [...at, "fn"]).node.loc;
    // Only a TypeScript spec, whose tree has no positions, can hold a function.
    if (loc.start !== undefined) {
      out.push({
        code: "invalid_value",
        path: [...at, "grader"],
        message:
          "Cannot use a function grader in a YAML spec: fn must be a TypeScript function",
        hint:
          "write the spec in TypeScript (definePipeline) to grade with a function, or use grader: command with a script",
      });
    }
    metricProblems(o.params.metrics, at, "function", out);
  }
}

/**
 * The problems of an outcome's program graders and composites: a command grader names one program in a
 * known language (a `file://` script, whose extension gives the language, or inline `code` with
 * `language`); command and function graders declare 1 to 64 metrics, each with min <= max, a
 * `comparable` one within 0 to 1; a function grader appears only in a TypeScript spec; a composite has
 * components, none with its own `success` or `fair` (those are the composite's, over `<id>.<metric>`).
 * See README.md#custom-graders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutcomeSchema } from "../schema.ts";
 * import { fromValue } from "../source_tree.ts";
 * import { outcomeGraderProblems } from "./outcome_graders.ts";
 * const raw = { grader: "command", params: { code: "print(1)", metrics: { ok: {} } } };
 * const problems = outcomeGraderProblems(OutcomeSchema.parse(raw), fromValue({ outcome: raw }, "x.ts"));
 * assert.equal(problems[0]!.code, "missing_key");
 * ```
 */
export function outcomeGraderProblems(
  outcome: Outcome,
  root: SpecNode,
): RuleReport[] {
  const out: RuleReport[] = [];
  const at = ["outcome"];
  if (outcome.grader !== "composite") {
    singleProblems(outcome, at, root, out);
    return out;
  }
  const components = Object.entries(outcome.params.graders);
  if (components.length === 0) {
    out.push({
      code: "too_small",
      path: [...at, "params", "graders"],
      message: "Cannot grade with a composite of no graders",
      hint: "add graders: { <id>: { grader: ..., params: ... } }",
    });
  }
  for (const [id, g] of components) {
    const base = [...at, "params", "graders", id];
    for (const key of ["success", "fair"] as const) {
      if (!nodeAt(root, [...base, key]).exact) continue;
      out.push({
        code: "invalid_value",
        path: [...base, key],
        onKey: true,
        message:
          `Cannot use ${key} on component "${id}" of a composite outcome: the composite's own ${key} covers every component`,
        hint: `move it to outcome.${key}, naming metrics as "${id}.<metric>"`,
      });
    }
    singleProblems(g, base, root, out);
  }
  return out;
}

/** Checks the outcome's program graders and composites ({@linkcode outcomeGraderProblems}). */
export function outcomeGraders(ctx: RuleContext): void {
  if (!ctx.spec.outcome) return;
  for (const r of outcomeGraderProblems(ctx.spec.outcome, ctx.root)) {
    ctx.report(r);
  }
}
