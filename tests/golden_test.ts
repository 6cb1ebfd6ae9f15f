import assert from "node:assert/strict";
import { DIAGNOSTIC_CODES } from "../dsl/mod.ts";
import {
  expectedFiles,
  expectedPath,
  goldenCases,
  renderCase,
} from "./golden_cases.ts";

const UPDATE =
  "if the change is intended, run `deno task golden:update` and review the diff";

/** Where two texts first differ, line by line, for a failure message that stays short. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split("\n"), e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      return `line ${i + 1}:\n  expected: ${
        JSON.stringify(e[i] ?? "<end of file>")
      }\n  actual:   ${JSON.stringify(a[i] ?? "<end of file>")}`;
    }
  }
  return "no line differs";
}

Deno.test("golden cases cover every diagnostic code exactly once", () => {
  assert.deepEqual(
    goldenCases(),
    [...DIAGNOSTIC_CODES].sort(),
    "tests/spec_errors must hold one <code>.yaml (or .ts) per code in dsl/diagnostic_codes.ts, and no other",
  );
  assert.deepEqual(
    expectedFiles(),
    goldenCases(),
    "every tests/spec_errors/<code>.yaml needs a <code>.expected and vice versa; run `deno task golden:update`",
  );
});

Deno.test("compile() renders each spec error exactly as its golden file", async (t) => {
  for (const name of goldenCases()) {
    await t.step(name, async () => {
      const { text, diagnostics } = await renderCase(name);
      // A golden case shows its own code first; the cap's diagnostic always comes last.
      const shown = name === "too_many_errors"
        ? diagnostics.at(-1)?.code
        : diagnostics[0]?.code;
      assert.equal(
        shown,
        name,
        `tests/spec_errors/${name}.yaml should report ${name} ${
          name === "too_many_errors" ? "last" : "first"
        }, got: ${diagnostics.map((d) => d.code).join(", ") || "nothing"}`,
      );
      let expected: string;
      try {
        expected = Deno.readTextFileSync(expectedPath(name));
      } catch {
        assert.fail(
          `tests/spec_errors/${name}.expected is missing; run \`deno task golden:update\``,
        );
      }
      if (text !== expected) {
        assert.fail(
          `rendered diagnostics of tests/spec_errors/${name}.yaml differ from ${name}.expected at ${
            firstDifference(text, expected)
          }\n${UPDATE}`,
        );
      }
    });
  }
});
