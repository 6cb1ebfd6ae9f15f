import { programProblem } from "../program_source.ts";
import type { RuleContext, RuleReport } from "../rule_context.ts";
import type { Rubric } from "../schema.ts";
import type { SpecNode } from "../source_tree.ts";

type Path = readonly (string | number)[];

// Keys only a `when: command` check reads; on another check they would be silently ignored.
const COMMAND_KEYS = [
  "script",
  "code",
  "language",
  "timeout_s",
  "memory_mb",
  "max_processes",
] as const;

/**
 * The problems of a rubric's `when: command` checks, and each one's language resolved: a command check
 * has exactly one of `script` (a `file://` include, whose extension gives the language unless `language`
 * says it) and `code` (inline, with `language`); the program keys are refused on other checks. A script's
 * language is written into the check (so the graph and the rubric hash carry it), because the include's
 * file name is known only here. See README.md#custom-checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RubricSchema } from "../schema.ts";
 * import { fromValue } from "../source_tree.ts";
 * import { commandCheckProblems } from "./command_checks.ts";
 * const raw = { name: "r", default_score: 5, checks: [{ id: "c", when: "command", cap: 2 }] };
 * const rubric = RubricSchema.parse(raw);
 * const problems = commandCheckProblems(rubric, [], fromValue(raw, "r.yaml"));
 * assert.equal(problems[0]!.code, "missing_key");
 * ```
 */
export function commandCheckProblems(
  rubric: Rubric,
  at: Path,
  root: SpecNode,
): RuleReport[] {
  const out: RuleReport[] = [];
  rubric.checks.forEach((c, i) => {
    const path = [...at, "checks", i];
    if (c.when !== "command") {
      for (const key of COMMAND_KEYS) {
        if (c[key] === undefined) continue;
        out.push({
          code: "invalid_value",
          path: [...path, key],
          onKey: true,
          message:
            `Check "${c.id}" has ${key}, but only command checks read one (this one is ${c.when})`,
          hint: `remove ${key}, or set when: command`,
        });
      }
      return;
    }
    const problem = programProblem(c, path, root, {
      missingAt: [...path, "when"],
      missing:
        `Check "${c.id}" is a command check but has no program to run: it needs script or code`,
      both:
        `Check "${c.id}" has both script and code: a command check runs one program`,
      notIncluded:
        `Cannot read the program of check "${c.id}": script must be a file:// include, not inline text or a plain path`,
      unknownExtension: (origin, ext) =>
        `Cannot tell the language of check "${c.id}"'s script ${
          JSON.stringify(origin)
        }: its extension ${JSON.stringify(ext)} is none of .py, .ts, .js, .mjs`,
      noLanguage:
        `Cannot tell the language of check "${c.id}"'s inline code: it has no language`,
      folder: "checks",
      languageIn: "the check",
    });
    if (problem !== undefined) out.push(problem);
  });
  return out;
}

/**
 * Every `when: command` check of the coach's rubrics names one program in a known language, and no other
 * check carries program keys ({@linkcode commandCheckProblems}). See README.md#custom-checks.
 */
export function commandChecks(ctx: RuleContext): void {
  for (const use of ctx.rubricUses) {
    for (const report of commandCheckProblems(use.rubric, use.path, ctx.root)) {
      ctx.report(report);
    }
  }
}
