import assert from "node:assert/strict";
import { closingBrace } from "./closing_brace.ts";
import { extractOutput, lastBoxed } from "./extract_output.ts";

Deno.test("lastBoxed() returns the last boxed answer with nested braces", () => {
  assert.equal(
    lastBoxed("first \\boxed{1} then \\boxed{\\frac{1}{2}}"),
    "\\frac{1}{2}",
  );
  assert.equal(lastBoxed("\\boxed{ 023 }"), "023");
  assert.equal(lastBoxed("\\boxed{unclosed"), undefined);
  assert.equal(lastBoxed("no box"), undefined);
  assert.equal(lastBoxed("\\fbox{7}"), "7");
  assert.equal(lastBoxed("\\boxed{\\boxed{1}}"), "1");
  assert.equal(lastBoxed("\\boxed{1} then \\boxed{unclosed"), "1");
  assert.equal(lastBoxed("\\boxed{a\\}b} c"), "a\\}b");
  assert.equal(lastBoxed("} \\boxed {2}"), "2");
});

/** The previous definition: from every opener, scan to its closing brace (quadratic on hostile text). */
function lastBoxedByRescan(text: string): string | undefined {
  let found: string | undefined;
  for (const m of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    const start = m.index + m[0].length;
    const end = closingBrace(text, start);
    if (end >= 0) found = text.slice(start, end - 1).trim();
  }
  return found;
}

Deno.test("lastBoxed() agrees with a rescan from every opener on random text, and stays linear on hostile text", () => {
  const pieces = [
    "\\boxed{",
    "\\fbox {",
    "{",
    "}",
    "\\{",
    "\\}",
    "x",
    " ",
    "\\frac",
  ];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 3000; n++) {
    let text = "";
    const len = next() % 14;
    for (let k = 0; k < len; k++) text += pieces[next() % pieces.length];
    assert.equal(
      lastBoxed(text),
      lastBoxedByRescan(text),
      JSON.stringify(text),
    );
  }
  // Fifty thousand openers: a rescan from each takes minutes; one pass takes milliseconds.
  assert.equal(lastBoxed("\\boxed{".repeat(50_000)), undefined);
  assert.equal(
    lastBoxed("\\boxed{".repeat(20_000) + "7" + "}".repeat(20_000)),
    "7",
  );
});

Deno.test("extractOutput() applies each rule and gives null when nothing matches", () => {
  const text = "VERDICT: TRUE\nlater VERDICT: FALSE";
  assert.equal(
    extractOutput(text, {
      extract: "regex",
      pattern: "VERDICT:\\s*(TRUE|FALSE)",
      group: 1,
    }),
    "FALSE",
  );
  assert.equal(
    extractOutput("nothing", { extract: "regex", pattern: "x(y)", group: 1 }),
    null,
  );
  assert.equal(
    extractOutput("all of it", { extract: "final_text" }),
    "all of it",
  );
  assert.equal(
    extractOutput('Result:\n```json\n{"a": 1}\n```', { extract: "json" }),
    '{"a":1}',
  );
  assert.equal(
    extractOutput('the plan is {"prove": [1]} ok', { extract: "json" }),
    '{"prove":[1]}',
  );
  assert.equal(extractOutput("no json", { extract: "json" }), null);
  assert.equal(
    extractOutput("so \\boxed{42}.", { extract: "last_boxed" }),
    "42",
  );
});
