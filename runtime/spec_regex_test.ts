import assert from "node:assert/strict";
import { SpecRegex } from "./spec_regex.ts";

Deno.test("SpecRegex matches like RegExp on ordinary patterns, and in linear time on catastrophic ones", async (t) => {
  await t.step("the same answers as RegExp on the patterns specs use", () => {
    const cases: [string, string][] = [
      ["^b", "bee"],
      ["^b", "abe"],
      ["^[\\x00-\\x7F]", "é"],
      ["^[\\x00-\\x7F]", "e"],
      ["\\bDONE\\b", "all DONE."],
      ["\\d{3}-\\d{4}", "call 555-1234"],
      ["(?i)yes", "YES"],
    ];
    for (const [pattern, text] of cases) {
      const js = new RegExp(
        pattern.replace("(?i)", ""),
        pattern.startsWith("(?i)") ? "i" : "",
      );
      assert.equal(
        SpecRegex.compile(pattern).test(text),
        js.test(text),
        `${pattern} on ${text}`,
      );
    }
  });

  await t.step(
    "the last match's group, as the regex output extractor needs",
    () => {
      const re = SpecRegex.compile("answer: (\\d+)");
      assert.equal(re.lastGroup("answer: 1 and answer: 22.", 1), "22");
      assert.equal(re.lastGroup("no answer", 1), null);
      assert.equal(SpecRegex.compile("x*").lastGroup("abc", 0), "");
    },
  );

  await t.step("catastrophic patterns on a hostile reply stay linear", () => {
    const hostile = "a".repeat(200_000) + "!";
    for (const p of ["^(a+)+$", "(a|aa)+$", "(a*)*b", "^(a|a?)+$"]) {
      const started = performance.now();
      assert.equal(SpecRegex.compile(p).test(hostile), false);
      assert.ok(performance.now() - started < 2_000, `${p} took too long`);
    }
  });

  await t.step("a pattern RE2 cannot run is refused by name, with why", () => {
    assert.throws(
      () => SpecRegex.compile("(a)\\1"),
      /^SyntaxError: Cannot use the pattern \/\(a\)\\1\/: .*no lookaround, no backreferences/,
    );
    assert.throws(() => SpecRegex.compile("(?=a)b"), SyntaxError);
  });
});
