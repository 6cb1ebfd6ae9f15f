import { RE2 } from "re2-wasm";
import { nestedQuantifier } from "../_slow_regex.ts";
import { answerUses, outcomeParts } from "../grader_metrics.ts";
import type { RuleContext } from "../rule_context.ts";

/** A regex engine's error without V8's "Invalid regular expression: /<pattern>/<flags>: ", which repeats the pattern. */
function regexError(e: Error): string {
  return e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
}

/**
 * Every regular expression in the spec compiles, in JavaScript syntax and on RE2 (the linear-time engine
 * the runtime matches agent text with: no lookaround, no backreferences); one with nested quantifiers is a
 * slow_regex warning (harmless on RE2, exponential in a backtracking engine reading the same spec).
 * See README.md#roles.
 */
export function validRegexes(ctx: RuleContext): void {
  const check = (
    pattern: string,
    path: (string | number)[],
    group?: { value: number; path: (string | number)[] },
  ) => {
    try {
      const re = new RegExp(pattern);
      try {
        new RE2(pattern, "u");
      } catch (e) {
        const reason = e instanceof Error ? regexError(e) : String(e);
        ctx.report({
          code: "invalid_regex",
          path,
          message: `Cannot run regular expression ${
            JSON.stringify(pattern)
          } on RE2, the linear-time engine mappa matches agent text with: ${reason}`,
          hint:
            "rewrite it without lookaround ((?=…), (?!…), (?<=…)) and backreferences (\\1)",
        });
        return;
      }
      const nested = nestedQuantifier(pattern);
      if (nested !== undefined) {
        ctx.report({
          code: "slow_regex",
          severity: "warning",
          path,
          message: `Cannot match ${
            JSON.stringify(pattern)
          } in bounded time in a backtracking engine: the group at character ${
            nested + 1
          } repeats a part that repeats itself (mappa runs it on RE2, in linear time, but JavaScript's RegExp and most tools reading this spec backtrack exponentially on some text)`,
          hint:
            "repeat the inner part only once, e.g. (a+)+ -> a+, or anchor it with a character the group cannot hold",
        });
      }
      // An empty alternative always matches, so exec returns one slot per capture group.
      const groups = new RegExp(`${re.source}|`).exec("")!.length - 1;
      if (group && group.value > groups) {
        ctx.report({
          code: "invalid_regex",
          path: group.path,
          message: `Cannot extract group ${group.value} of ${
            JSON.stringify(pattern)
          }: it has ${groups} group${groups === 1 ? "" : "s"}`,
          hint: groups === 0
            ? "wrap the part to extract in ( ), or use group: 0 for the whole match"
            : `use a group from 0 to ${groups}`,
        });
      }
    } catch (e) {
      const reason = e instanceof Error
        ? regexError(e).replace(/\.$/, "")
        : String(e);
      ctx.report({
        code: "invalid_regex",
        path,
        message: `Cannot compile regular expression ${
          JSON.stringify(pattern)
        }: ${reason}`,
        hint:
          "patterns use JavaScript syntax; in YAML, single-quote them so backslashes stay as written",
      });
    }
  };
  ctx.spec.roles.forEach((role, i) => {
    if (role.stop_pattern !== undefined) {
      check(role.stop_pattern, ["roles", i, "stop_pattern"]);
    }
    for (const [name, out] of Object.entries(role.outputs)) {
      if (out.extract === "regex") {
        check(out.pattern, ["roles", i, "outputs", name, "pattern"], {
          value: out.group,
          path: ["roles", i, "outputs", name, "group"],
        });
      }
    }
  });
  ctx.spec.flow.loops.forEach((loop, i) => {
    if (loop.until) {
      check(loop.until.matches, ["flow", "loops", i, "until", "matches"]);
    }
  });
  const coach = ctx.spec.coach;
  if (coach) {
    const rubrics: [string[], typeof coach.rubric][] = [
      [["coach", "rubric"], coach.rubric],
      ...Object.entries(coach.rubrics).map((
        [role, r],
      ): [string[], typeof coach.rubric] => [["coach", "rubrics", role], r]),
    ];
    for (const [at, rubric] of rubrics) {
      rubric.checks.forEach((c, i) => {
        const path = [...at, "checks", i];
        if (c.pattern !== undefined) {
          check(c.pattern, [...path, "pattern"]);
        }
        if (c.when === "reply_mismatch" && c.pattern === undefined) {
          ctx.report({
            code: "missing_key",
            path: [...path, "when"],
            message:
              `Check "${c.id}" is reply_mismatch but has no pattern to match the reply against`,
            hint: "add pattern: '<regex>' to the check, e.g. pattern: '^\\d+$'",
          });
        } else if (c.when !== "reply_mismatch" && c.pattern !== undefined) {
          ctx.report({
            code: "invalid_value",
            path: [...path, "pattern"],
            message:
              `Check "${c.id}" has a pattern, but only reply_mismatch checks read one (this one is ${c.when})`,
            hint: "remove pattern, or set when: reply_mismatch",
          });
        }
      });
    }
  }
  for (const part of outcomeParts(ctx.spec.outcome)) {
    const outcome = part.decl;
    if (outcome.grader !== "regex") continue;
    const at = part.path;
    const pattern = outcome.params.pattern;
    if (typeof pattern === "string") {
      check(pattern, [...at, "params", "pattern"]);
    } else {
      for (const [name, p] of Object.entries(pattern)) {
        check(p, [...at, "params", "pattern", name]);
      }
      // A pattern per named answer: every answer needs one, and no pattern may name none.
      const names = answerUses(outcome, at).flatMap((a) =>
        a.name === null ? [] : [a.name]
      );
      for (const name of names) {
        if (Object.hasOwn(pattern, name)) continue;
        ctx.report({
          code: "invalid_value",
          path: [...at, "params", "pattern"],
          message:
            `Cannot grade answer "${name}" with the regex grader: outcome.params.pattern names no pattern for it`,
          hint:
            `add ${name}: '<regex>' under pattern, or give one pattern for every answer`,
        });
      }
      for (const name of Object.keys(pattern)) {
        if (names.includes(name)) continue;
        ctx.report({
          code: "invalid_value",
          path: [...at, "params", "pattern", name],
          onKey: true,
          message:
            `Cannot use the pattern for "${name}": outcome.params.answer names no answer "${name}"`,
          hint: names.length > 0
            ? `name one of ${names.map((n) => `"${n}"`).join(", ")}`
            : "give answer as a map of named answers, or pattern as one string",
        });
      }
    }
  }
}
