import { extname } from "node:path";
import type { RuleContext, RuleReport } from "../rule_context.ts";
import type { Outcome, SingleOutcome } from "../schema.ts";
import { nodeAt, type SpecNode } from "../source_tree.ts";

type Path = readonly (string | number)[];

/** Most metrics one command or function grader may declare. */
export const MAX_DECLARED_METRICS = 64;

const LANGUAGES: Readonly<Record<string, "python" | "typescript">> = {
  ".py": "python",
  ".ts": "typescript",
  ".js": "typescript",
  ".mjs": "typescript",
};

/** The file a `file://` include at `path` came from, or undefined when the value is not an include. */
export function includedFrom(root: SpecNode, path: Path): string | undefined {
  const found = nodeAt(root, path);
  const node = found.node;
  return found.exact && node.kind === "scalar" && node.included
    ? node.origin?.file
    : undefined;
}

function commandProblems(
  o: Extract<SingleOutcome, { grader: "command" }>,
  at: Path,
  root: SpecNode,
  out: RuleReport[],
): void {
  const p = o.params;
  const path = [...at, "params"];
  if (p.script === undefined && p.code === undefined) {
    out.push({
      code: "missing_key",
      path: [...at, "grader"],
      message:
        "Cannot run the command grader: it has no program (script or code)",
      hint:
        "add script: file://graders/<name>.py, or code: | with language: python",
    });
    return;
  }
  if (p.script !== undefined && p.code !== undefined) {
    out.push({
      code: "conflicting_values",
      path: [...path, "code"],
      onKey: true,
      message:
        "Cannot run the command grader: it has both script and code, and runs one program",
      hint: "keep script (a file:// include) or code (inline), not both",
    });
    return;
  }
  if (p.script !== undefined) {
    const origin = includedFrom(root, [...path, "script"]);
    if (origin === undefined) {
      out.push({
        code: "invalid_value",
        path: [...path, "script"],
        message:
          "Cannot read the command grader's program: script must be a file:// include, not inline text or a plain path",
        hint:
          "write script: file://graders/<name>.py (relative to this file), or put inline text under code:",
      });
      return;
    }
    const ext = extname(origin).toLowerCase();
    if (p.language === undefined && LANGUAGES[ext] === undefined) {
      out.push({
        code: "invalid_value",
        path: [...path, "script"],
        message:
          `Cannot tell the language of the command grader's script "${origin}": its extension "${ext}" is none of .py, .ts, .js, .mjs`,
        hint: "add language: python (or typescript) to params",
      });
      return;
    }
    // The include's file name is known only here: the graph carries the resolved language.
    if (p.language === undefined) {
      (p as { language?: string }).language = LANGUAGES[ext]!;
    }
  } else if (p.language === undefined) {
    out.push({
      code: "missing_key",
      path: [...path, "code"],
      onKey: true,
      message:
        "Cannot tell the language of the command grader's inline code: it has no language",
      hint: "add language: python (or typescript) to params",
    });
  }
}

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
    commandProblems(o, at, root, out);
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
