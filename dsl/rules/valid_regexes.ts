import type { RuleContext } from "../rule_context.ts";

/** Every regular expression in the spec compiles (JavaScript syntax). */
export function validRegexes(ctx: RuleContext): void {
  const check = (pattern: string, path: (string | number)[]) => {
    try {
      new RegExp(pattern);
    } catch (e) {
      const reason = e instanceof Error
        // V8 repeats the pattern: "Invalid regular expression: /(/: Unterminated group".
        ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "")
          .replace(/\.$/, "")
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
        check(out.pattern, ["roles", i, "outputs", name, "pattern"]);
      }
    }
  });
  ctx.spec.flow.loops.forEach((loop, i) => {
    if (loop.until) {
      check(loop.until.matches, ["flow", "loops", i, "until", "matches"]);
    }
  });
  const outcome = ctx.spec.outcome;
  if (outcome?.grader === "regex") {
    check(outcome.params.pattern, ["outcome", "params", "pattern"]);
  }
}
