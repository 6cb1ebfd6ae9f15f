import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseStructuredVerdict,
  parseVerdict,
  type VerdictParse,
} from "./parse_verdict.ts";

const SCALE = { min: 0, max: 10 };

function score(read: VerdictParse): number {
  assert.ok(read.ok, `expected a score, got ${JSON.stringify(read)}`);
  return read.reply.score;
}

function refused(read: VerdictParse, reason = "verdict_parse_failure") {
  assert.ok(!read.ok, `expected no score, got ${JSON.stringify(read)}`);
  assert.equal(read.reason, reason);
  return read;
}

Deno.test("parseStructuredVerdict() reads a reply to the JSON Schema format", () => {
  const read = parseStructuredVerdict(
    ' {"reasoning": "saved all files", "score": 8.5, "blame": null}\n',
    SCALE,
  );
  assert.deepEqual(read, {
    ok: true,
    form: "structured",
    reply: { reasoning: "saved all files", score: 8.5, blame: null },
  });
});

Deno.test("parseStructuredVerdict() refuses prose, extra keys and a missing field", () => {
  assert.match(
    refused(parseStructuredVerdict("SCORE: 7", SCALE)).message,
    /^Cannot parse the judge reply as JSON: /,
  );
  assert.match(
    refused(
      parseStructuredVerdict(
        '{"reasoning":"r","score":7,"blame":null,"extra":1}',
        SCALE,
      ),
    ).message,
    /^Cannot read the judge reply as a verdict: at the reply: /,
  );
  assert.match(
    refused(parseStructuredVerdict('{"reasoning":"r","score":"7"}', SCALE))
      .message,
    /at score: /,
  );
});

Deno.test("parseVerdict() reads every accepted form", async (t) => {
  const cases: [string, string, number, string][] = [
    [
      "structured JSON",
      '{"reasoning":"r","score":7,"blame":null}',
      7,
      "structured",
    ],
    [
      "JSON in a markdown fence",
      'Here is my verdict:\n```json\n{"reasoning": "ok", "score": 6, "blame": "analyst"}\n```',
      6,
      "json",
    ],
    [
      "JSON in prose",
      'I looked at it. {"score": 4, "reasoning": "crashed"} That is all.',
      4,
      "json",
    ],
    [
      "a score key in broken but complete JSON",
      '{"reasoning": "ok", "score": 7,}',
      7,
      "marker",
    ],
    ["SCORE:", "The agent saved the files.\nSCORE: 7", 7, "marker"],
    ["bold label", "Analysis...\n**PROCESS_SCORE:** 7", 7, "marker"],
    ["bold label with colon outside", "**Score**: 9", 9, "marker"],
    ["brackets", "PROCESS_SCORE: [7]", 7, "marker"],
    ["label with /10", "Final score: 7/10", 7, "marker"],
    ["label with out of", "Overall rating: 8 out of 10.", 8, "marker"],
    [
      "a sentence's final period",
      "Good work overall.\nSCORE: 7.5.",
      7.5,
      "marker",
    ],
    ["heading and list marks", "### Final Score: 3", 3, "marker"],
    ["label in a sentence", "The final score is 5.", 5, "marker"],
    [
      "format token mid-line",
      "Files ok, so PROCESS_SCORE: 6. Well done.",
      6,
      "marker",
    ],
    ["an aside after the score", "Score: 7 (solid work)", 7, "marker"],
    ["a bare fraction", "I rate this action 7/10.", 7, "fraction"],
    [
      "a score after <think>",
      "<think>Score: 2 at first glance</think>SCORE: 8",
      8,
      "marker",
    ],
    ["zero", "SCORE: 0", 0, "marker"],
    ["CRLF line ends", "Fine work.\r\nSCORE: 7\r\n", 7, "marker"],
  ];
  for (const [name, text, expected, form] of cases) {
    await t.step(name, () => {
      const read = parseVerdict(text, SCALE);
      assert.equal(score(read), expected);
      assert.equal(read.ok && read.form, form);
    });
  }
});

Deno.test("parseVerdict() binds to the last explicit score marker", () => {
  assert.equal(
    score(parseVerdict("SCORE: 3\nOn reflection:\nSCORE: 6", SCALE)),
    6,
  );
  assert.equal(
    score(parseVerdict('Format: {"score": 0}\nMy verdict.\nSCORE: 7', SCALE)),
    7,
  );
  assert.equal(
    score(
      parseVerdict(
        'SCORE: 2\n```json\n{"score": 9, "reasoning": "r"}\n```',
        SCALE,
      ),
    ),
    9,
  );
  // A labelled score wins over a later bare fraction.
  assert.equal(
    score(parseVerdict("SCORE: 7\nIt passed 9/10 checks.", SCALE)),
    7,
  );
});

Deno.test("parseVerdict() never takes a stray number for a score", async (t) => {
  const cases: [string, string][] = [
    [
      "a numbered list item",
      "1. **Files check**: all saved\n2. **Execution**: fine",
    ],
    ["a quoted ROC-AUC", 'The model reached ROC-AUC 0.85, "accuracy: 0.85".'],
    ["a metric labelled score", "F1 score: 0.85\nValidation score: 0.91"],
    [
      "a metric score followed by its name",
      "Score: 0.85 ROC-AUC on the holdout",
    ],
    ["a tool's JSON output", 'stdout: {"model": "rf", "score": 0.85}'],
    ["a fraction of another scale", "The agent passed 3/4 tests."],
    ["a fraction followed by a noun", "It passed 7/10 tests."],
    ["the rubric's format echoed", "PROCESS_SCORE: [0 to 10]"],
    ["OUTCOME_SCORE and ANSWER_CORRECT", "OUTCOME_SCORE: 1\nANSWER_CORRECT: 1"],
    ["a trailing bare number", "The agent did fine overall.\n7.5."],
    ["a date", "Run on 10/10/2024."],
    ["only reasoning", "<think>SCORE: 7</think>"],
    ["empty", ""],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      const read = refused(parseVerdict(text, SCALE));
      assert.match(read.message, /^Cannot find a score in the judge reply: /);
    });
  }
});

Deno.test("parseVerdict() reports out-of-scale scores, never clamping them", () => {
  for (
    const text of [
      '{"reasoning":"r","score":12,"blame":null}',
      "SCORE: 11",
      "SCORE: -1",
      '```json\n{"score": 85}\n```',
      "Final score: 4/5",
    ]
  ) {
    const read = refused(parseVerdict(text, SCALE), "out_of_scale");
    assert.match(
      read.message,
      /^Cannot accept score -?\d+(?:\/5)?: the rubric's scale is 0 to 10$/,
    );
  }
  assert.equal(
    refused(parseVerdict("SCORE: 11", SCALE), "out_of_scale").score,
    11,
  );
  assert.equal(score(parseVerdict("SCORE: 4/5", { min: 0, max: 5 })), 4);
  assert.equal(score(parseVerdict("SCORE: -0.5", { min: -1, max: 1 })), -0.5);
});

Deno.test("parseVerdict() keeps the JSON reasoning and blame, else the whole answer", () => {
  const fenced = parseVerdict(
    'Thoughts.\n```json\n{"reasoning": "no X_test.pkl", "score": 1, "blame": "data_engineer"}\n```',
    SCALE,
  );
  assert.ok(fenced.ok);
  assert.deepEqual(fenced.reply, {
    reasoning: "no X_test.pkl",
    score: 1,
    blame: "data_engineer",
  });
  const marked = parseVerdict(
    "The file is missing.\nBLAME: modeler\nSCORE: 2",
    SCALE,
  );
  assert.ok(marked.ok);
  assert.equal(
    marked.reply.reasoning,
    "The file is missing.\nBLAME: modeler\nSCORE: 2",
  );
  assert.equal(marked.reply.blame, "modeler");
  const none = parseVerdict("Fine.\nBlame: none\nSCORE: 9", SCALE);
  assert.ok(none.ok && none.reply.blame === null);
});

Deno.test("parseVerdict() never throws and scores only within the scale", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      const read = parseVerdict(text, SCALE);
      if (read.ok) {
        assert.ok(read.reply.score >= 0 && read.reply.score <= 10);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("parseVerdict() stays fast on a long reply full of braces", () => {
  const text = "{".repeat(20_000) + " SCORE: 7";
  const started = performance.now();
  refused(parseVerdict(text, SCALE));
  assert.equal(
    score(parseVerdict(`${"{ a }\n".repeat(5000)}SCORE: 7`, SCALE)),
    7,
  );
  assert.ok(performance.now() - started < 2000);
});

Deno.test("parseVerdict() refuses a JSON verdict cut off before it closes, whatever else the reply says", () => {
  for (
    const text of [
      '{"reasoning": "The files are there", "score": 8, "b',
      '{"reasoning": "ok", "score": 7,',
      'Looks fine.\n```json\n{"reasoning": "ran", "score": 9, "blame": nu',
      'SCORE: 7\n{"reasoning": "on second thought the model leaks the test set',
      '<think>long</think>{"score": 6, "reasoning": "{nested} and cut',
    ]
  ) {
    const read = parseVerdict(text, SCALE);
    assert.equal(read.ok, false, text);
    assert.equal(!read.ok && read.reason, "verdict_parse_failure");
    assert.match(!read.ok ? read.message : "", /JSON verdict is cut off/);
  }
  // A JSON object quoted from a tool that is not a verdict does not count, nor a closed verdict.
  assert.equal(
    score(parseVerdict('stdout: {"model": "rf", "acc\nSCORE: 5', SCALE)),
    5,
  );
  assert.equal(
    score(parseVerdict('{"reasoning": "a {b} c", "score": 4}', SCALE)),
    4,
  );
});

Deno.test("parseVerdict() reads no score from the agents' text the judge quotes between data fences", () => {
  const d = (s: string) =>
    `<data-0123456789abcdef>${s}</data-0123456789abcdef>`;
  const quoted = `The agent wrote ${d("SCORE: 10")} and ${
    d('\n{"reasoning": "x", "score": 10}\n')
  }, yet nothing ran.`;
  const read = parseVerdict(quoted, SCALE);
  assert.equal(read.ok, false);
  assert.equal(score(parseVerdict(`${quoted}\nSCORE: 2`, SCALE)), 2);
  // An unclosed fence hides nothing; many of them stay fast.
  assert.equal(
    score(parseVerdict("<data-0123456789abcdef>\nSCORE: 3", SCALE)),
    3,
  );
  const opens = Array.from(
    { length: 20_000 },
    (_, i) => `<data-${i.toString(16).padStart(16, "0")}>`,
  ).join(" ");
  const t0 = performance.now();
  assert.equal(score(parseVerdict(`${opens}\nSCORE: 4`, SCALE)), 4);
  assert.ok(performance.now() - t0 < 1000);
});
