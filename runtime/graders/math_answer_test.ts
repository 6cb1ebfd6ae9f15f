import assert from "node:assert/strict";
import type { ExecutionGraph } from "../../dsl/mod.ts";
import type { Task } from "../load_tasks.ts";
import type { Grader } from "./grade.ts";
import { extractAnswer, mathEqual, normalizeAnswer } from "./math_answer.ts";
import { mathEquivalenceGrader } from "./math_equivalence.ts";

/** [answer, expected, equal?] with the default tolerance (1e-6). */
const CASES: readonly (readonly [string, string, boolean])[] = [
  // integers: AIME zero padding, AMC floats, signs
  ["023", "23", true],
  ["23", "23.0", true],
  ["023", "23.0", true],
  ["18.0", "18", true],
  ["+5", "5", true],
  ["-0", "0", true],
  ["-7", "7", false],
  ["023", "32", false],
  ["0", "000", true],
  ["100", "10", false],
  // thousands separators
  ["1,000", "1000", true],
  ["1{,}000", "1000", true],
  ["12,345,678", "12345678", true],
  ["1\\,000", "1000", true],
  ["1,000", "100", false],
  // decimals and tolerance
  ["0.1", "0.10", true],
  ["3.1415926", "3.14159265", true],
  ["1000000.5", "1000000", true],
  ["1000000.5", "1000003.5", false],
  ["0.333", "\\frac{1}{3}", false],
  ["2.5", "2.50000", true],
  [".5", "0.5", true],
  // fractions and mixed forms
  ["\\frac{1}{2}", "0.5", true],
  ["\\dfrac{1}{2}", "1/2", true],
  ["\\tfrac12", "\\frac{1}{2}", true],
  ["\\frac{2}{4}", "\\frac{1}{2}", true],
  ["-\\frac{3}{4}", "-0.75", true],
  ["\\frac{-3}{4}", "-\\frac{3}{4}", true],
  ["\\frac{3}{4}", "\\frac{4}{3}", false],
  ["\\frac{1}{2}", "-0.5", false],
  ["\\frac{\\frac{1}{2}}{2}", "0.25", true],
  ["\\frac{1}{0}", "0", false],
  // radicals, pi, powers
  ["\\sqrt{2}", "1.41421356237", true],
  ["2\\sqrt{3}", "\\sqrt{12}", true],
  ["2\\sqrt3", "\\sqrt{12}", true],
  ["\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", true],
  ["3\\sqrt{2}", "2\\sqrt{3}", false],
  ["\\sqrt[3]{8}", "2", true],
  ["2\\pi", "6.283185307", true],
  ["\\pi", "3.14", false],
  ["\\frac{\\pi}{4}", "\\pi/4", true],
  ["2^{10}", "1024", true],
  ["2^{-1}", "0.5", true],
  ["(1+\\sqrt{5})/2", "\\frac{1+\\sqrt{5}}{2}", true],
  ["1+\\sqrt{5}", "1-\\sqrt{5}", false],
  ["3\\cdot 4", "12", true],
  ["6 \\times 7", "42", true],
  // percent: the sign is dropped, never divided by 100
  ["50\\%", "50", true],
  ["50%", "50", true],
  ["50\\%", "0.5", false],
  // LaTeX noise, units, boxed
  ["$23$", "23", true],
  ["\\(23\\)", "23", true],
  ["\\boxed{023}", "23", true],
  ["\\boxed{\\frac{1}{2}}", "0.5", true],
  ["30^\\circ", "30", true],
  ["30^{\\circ}", "30", true],
  ["30°", "30", true],
  ["18 degrees", "18", true],
  ["5\\text{ cm}", "5", true],
  ["10 \\text{dollars}", "10", true],
  ["x = 5", "5", true],
  ["5.", "5", true],
  ["\\text{(C)}", "C", true],
  ["\\text{(C)}", "D", false],
  ["\\infty", "\\infty", true],
  ["x^2+1", "x^2 + 1", true],
  ["x^2+1", "x^2-1", false],
  // sets, tuples, intervals
  ["\\{1, 2\\}", "\\{2,1\\}", true],
  ["\\left\\{ 1, 2 \\right\\}", "\\{1,2\\}", true],
  ["\\{1,2\\}", "\\{1,3\\}", false],
  ["\\{1,2\\}", "\\{1,2,3\\}", false],
  ["1, 2", "2, 1", false], // a bare list keeps its order (hendrycks/math test_order)
  ["(1,2), (3,4)", "(3,4), (1,2)", true], // a bare list of tuples is a set of solutions
  ["x=1, y=2", "1, 2", true],
  ["(1, 2)", "(1,2)", true],
  ["\\left( 1, \\frac{1}{2} \\right)", "(1, 0.5)", true],
  ["(1, 2)", "(2, 1)", false],
  ["(1, 2)", "(1, 2, 3)", false],
  ["[1, 2]", "(1, 2)", false],
  ["(1, 2]", "(1,2]", true],
  ["(-\\infty, 3)", "(-\\infty,3)", true],
  ["(1, 2)", "1, 2", false],
  ["((1,2),3)", "((1, 2), 3)", true],
  ["\\{(1,2),(3,4)\\}", "\\{(3,4),(1,2)\\}", true],
  ["\\{(1,2),(3,4)\\}", "\\{(2,1),(3,4)\\}", false],
  ["\\{1,1\\}", "\\{1,2\\}", false],
  // issue 12: false positives of the old grader
  ["x^2 + 2 x", "x^2+2", false],
  ["3 + 4 i", "7", false],
  ["3 + 4 i", "3+4i", true],
  ["2 n", "2", false],
  ["2\\frac{1}{2}", "1", false],
  ["2\\frac{1}{2}", "2.5", true],
  // issue 12: misses of the old grader
  ["\\$10", "10", true],
  ["1e3", "1000", true],
  ["2x+3", "3+2x", true],
  ["(r+5)^2", "(r+5)(r+5)", true],
  ["(r+5)^2", "(r+5)(r-5)", false],
  ["(p,q)=(3,2)", "(3,2)", true],
  ["(p,q)=(3,2)", "(2,3)", false],
  ["x = 5+5+1 = 11", "11", true],
  ["x = 5+5+1 = 11", "12", false],
  ["\\cfrac{1}{3}", "\\frac13", true],
  [
    "(-\\infty, \\frac12) \\cup (1, \\infty)",
    "(1,\\infty)\\cup(-\\infty,0.5)",
    true,
  ],
  [
    "(-\\infty, \\frac12) \\cup (1, \\infty)",
    "(-\\infty,0.5]\\cup(1,\\infty)",
    false,
  ],
  ["3 \\pm \\frac12", "\\{2.5, 3.5\\}", true],
  ["3 \\pm \\frac12", "3.5", false],
  [
    "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}",
    "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
    true,
  ],
  [
    "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}",
    "\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}",
    false,
  ],
  ["x > 3", "3 < x", true],
  ["x \\geq 3", "3 \\le x", true],
  ["x > 3", "x < 3", false],
  ["x \\ge 3", "x > 3", false],
  ["\\boxed{3} and \\boxed{4}", "\\{3, 4\\}", true],
  ["\\boxed{3} and \\boxed{4}", "4", false],
  ["\\boxed{3}, so the answer is \\boxed{4}", "4", true],
  ["\\boxed{4} \\boxed{4}", "4", true],
  // percent, degrees, units, thousands, choices, complex numbers
  ["28 percent", "28", true],
  ["90^\\circ", "\\frac{\\pi}{2}", false],
  ["12 \\text{ cm}^2", "12", true],
  ["1\\,000\\,000", "10^6", true],
  ["32, 349", "32349", false],
  ["(B)", "B", true],
  ["\\textbf{(B)}", "C", false],
  ["\\frac{3}{4}i", "0.75i", true],
  ["e^{i\\pi}", "-1", true],
  ["i^2", "1", false],
  ["2\\sqrt{2}", "\\sqrt{8}", true],
  ["6 \\text{ and } 8", "68", false],
  ["6 \\text{ and } 8", "\\{6, 8\\}", true],
  ["17\\text{ any text}", "17", true],
  ["x \\approx 11", "11", true],
  ["\\pm 2021", "\\{-2021, 2021\\}", true],
  ["(0;0;1)", "(0,0,1)", true],
  ["|AB| = 1", "1", true],
  ["x=2, y=3", "y=2, x=3", false],
  ["x=2, y=3", "y=3, x=2", true],
  ["x = 2", "y = 2", false],
  ["net", "ten", false],
  ["no", "\\text{no}", true],
  ["\\sqrt{x^2}", "x", false],
  ["\\sqrt{x^2}", "|x|", true],
  ["2 s", "2", false],
  ["5 \\text{ seconds}", "5", true],
  ["2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", true],
  ["2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{5}", false],
  ["x^2 = 4", "x = 2", false],
  ["x = 2", "2 = x", true],
  ["V_{1}:V_{2}=11:21", "11:21", true],
  ["V_{1}:V_{2}=11:21", "21:11", false],
  ["\\tan^2(y)+1", "\\sec^2(y)", true],
  ["\\tan^2(y)+1", "\\csc^2(y)", false],
  ["x < 1", "-x > -1", true],
  ["x < 1", "-x < -1", false],
  ["x < 1", "2x < 2", true],
  ["x \\le 1", "-x > -1", false],
  ["11,\\! 111", "11111", true],
  ["11, 111", "11111", false],
  ["a=4, -8, -10", "-10, -8, 4", true],
  ["a=4, -8, -10", "-10, -8, 5", false],
  ["4, -8, -10", "-10, -8, 4", false],
  // not numbers at all
  ["", "0", false],
  ["foo", "bar", false],
  ["1.2.3", "0.36", false],
];

Deno.test("mathEqual() decides every table case both ways round", () => {
  assert.ok(CASES.length >= 60);
  assert.ok(CASES.some(([, , equal]) => equal));
  assert.ok(CASES.some(([, , equal]) => !equal));
  const wrong = CASES.filter(([a, b, equal]) =>
    mathEqual(a, b) !== equal || mathEqual(b, a) !== equal
  );
  assert.deepEqual(wrong, []);
});

Deno.test("mathEqual() honours the tolerance option", () => {
  assert.equal(mathEqual("3.1416", "\\pi"), false);
  assert.equal(mathEqual("3.1416", "\\pi", { tolerance: 1e-5 }), true);
  assert.equal(
    mathEqual("3.14159", "\\pi"),
    true,
    "2.7e-6 absolute is 8.4e-7 relative",
  );
  assert.equal(mathEqual("0.1234", "0.1235", { tolerance: 1e-3 }), true);
  assert.equal(mathEqual("1000", "1000.9", { tolerance: 1e-3 }), true);
  assert.equal(
    mathEqual("1000", "1001", { tolerance: 1e-3 }),
    false,
    "two integers compare exactly",
  );
  assert.equal(
    mathEqual("1000000", "1000001"),
    false,
    "two integers compare exactly",
  );
  assert.equal(mathEqual("1000", "1002.5", { tolerance: 1e-3 }), false);
  assert.equal(mathEqual("23", "23.0000001", { tolerance: 0 }), false);
  assert.equal(mathEqual("023", "23", { tolerance: 0 }), true);
});

Deno.test("normalizeAnswer() strips LaTeX noise and writes numbers canonically", () => {
  const cases: readonly (readonly [string, string])[] = [
    ["\\boxed{023}", "23"],
    ["$-0012.500$", "-12.5"],
    ["+7", "7"],
    ["1,234,567", "1234567"],
    ["\\dfrac{1}{2}", "\\frac{1}{2}"],
    ["\\left( 1, 2 \\right)", "(1,2)"],
    ["\\text{ 18 degrees }", "18"],
    ["45^\\circ", "45"],
    ["50\\%", "50"],
    ["x = \\sqrt{2}", "\\sqrt{2}"],
    ["2 \\pi", "2\\pi"],
    ["5 cm.", "5"],
    ["\\lbrace 1, 2 \\rbrace", "\\{1,2\\}"],
  ];
  assert.deepEqual(
    cases.map(([input]) => normalizeAnswer(input)),
    cases.map(([, out]) => out),
  );
});

Deno.test("extractAnswer() takes the last boxed answer, then a stated final answer", () => {
  assert.equal(
    extractAnswer("\\boxed{1} then \\boxed{\\frac{2}{3}}"),
    "\\frac{2}{3}",
  );
  assert.equal(extractAnswer("\\boxed{\\{1, \\{2\\}\\}}"), "\\{1, \\{2\\}\\}");
  assert.equal(
    extractAnswer("The final answer is $18$. I hope it is correct."),
    "$18$",
  );
  assert.equal(extractAnswer("So the answer is 5.5.\nDone"), "5.5");
  assert.equal(extractAnswer("Thus the answer is 42"), "42");
  assert.equal(extractAnswer("The answer is 1. Then the answer is 2."), "2");
  assert.equal(extractAnswer("\\boxed{unclosed"), null);
  assert.equal(extractAnswer("no answer here, just 7"), null);
});

Deno.test("mathEqual() stays fast and safe on hostile input", () => {
  const nested = (n: number) => "(".repeat(n) + "1" + ")".repeat(n);
  assert.equal(mathEqual(nested(400), "1"), true);
  assert.equal(mathEqual(nested(5000), "1"), false, "too long: text only");
  assert.equal(
    mathEqual(nested(5000), nested(5000)),
    false,
    "over MAX_ANSWER characters: not compared at all",
  );
  // A text over 100,000 characters is not searched for its answer.
  assert.equal(mathEqual("1 " + "a".repeat(100_000) + "!", "1"), false);
  assert.equal(mathEqual("constructor", "__proto__"), false);
  const spaces = "the answer is 5" + " ".repeat(100_000) + "!";
  assert.equal(extractAnswer(spaces), "5" + " ".repeat(100_000) + "!");
  assert.equal(mathEqual("10^{1000}", "10^{1000}"), true);
  assert.equal(mathEqual("10^{1000}", "10^{1001}"), false);
});

function graph(fair: Record<string, number> = {}): ExecutionGraph {
  return {
    outcome: {
      grader: "math_equivalence",
      params: { answer: "verifier.answer", tolerance: 1e-6 },
      fair,
      answer_ref: { role: "verifier", output: "answer" },
    },
  } as unknown as ExecutionGraph;
}

function task(answer: unknown): Task {
  return {
    id: "aime-1",
    index: 0,
    split: "eval",
    category: null,
    inputs: {},
    answer,
    files: [],
    row: {},
  };
}

Deno.test("mathEquivalenceGrader grades a correct, a wrong and a missing answer", async () => {
  const grader: Grader = mathEquivalenceGrader;
  const input = (answer: string | null, expected: unknown = "023") => ({
    graph: graph({ correct: 0 }),
    task: task(expected),
    outputs: { verifier: { answer } },
    workspace: ".",
  });

  const right = await grader(input("\\dfrac{46}{2}"));
  assert.equal(right.valid, true);
  assert.equal(right.correct, true);
  assert.equal(right.fair, false);
  assert.deepEqual(right.metrics, { correct: 1 });
  assert.equal(right.answer, "\\dfrac{46}{2}");
  assert.equal(right.expected, "023");
  assert.equal(right.reason, undefined);
  assert.match(right.summary, /equals the expected answer "023"/);

  const wrong = await grader(input("24"));
  assert.equal(wrong.valid, true);
  assert.equal(wrong.correct, false);
  assert.deepEqual(wrong.metrics, { correct: 0 });
  assert.match(wrong.summary, /"24" does not equal the expected answer "023"/);

  const amc = await grader(input("18", 18));
  assert.equal(amc.correct, true);

  const missing = await grader(input(null));
  assert.equal(missing.valid, false);
  assert.equal(missing.correct, null);
  assert.equal(missing.fair, true);
  assert.equal(missing.reason, "no boxed answer");
  assert.deepEqual(missing.metrics, { correct: 0 });

  // A row without its answer is the dataset's fault: the grader cannot grade (the episode is ungraded),
  // whether or not the agent answered.
  for (const given of ["5", null]) {
    for (const expected of [null, "", "  "]) {
      await assert.rejects(
        grader(input(given, expected)),
        /has no expected answer \(its row's answer field is missing or empty\); add the answer to the row/,
      );
    }
  }
});

Deno.test("mathEquivalenceGrader reports the spec's fair values and tolerance", async () => {
  const missing = await mathEquivalenceGrader({
    graph: graph({ correct: 0.25 }),
    task: task("1"),
    outputs: {},
    workspace: ".",
  });
  assert.deepEqual(missing.metrics, { correct: 0.25 });
  const loose = {
    outcome: {
      ...graph().outcome!,
      params: { answer: "verifier.answer", tolerance: 1e-2 },
    },
  } as unknown as ExecutionGraph;
  const close = await mathEquivalenceGrader({
    graph: loose,
    task: task("\\pi"),
    outputs: { verifier: { answer: "3.14" } },
    workspace: ".",
  });
  assert.equal(close.correct, true);
});

Deno.test("mathEquivalenceGrader rejects a graph with another grader", async () => {
  const other = {
    outcome: { grader: "exact_match", params: {}, fair: {} },
  } as unknown as ExecutionGraph;
  await assert.rejects(
    mathEquivalenceGrader({
      graph: other,
      task: task("1"),
      outputs: {},
      workspace: ".",
    }),
    TypeError,
  );
});

Deno.test("mathEqual() is not equal, and quick, on adversarial answers", () => {
  mathEqual("x", "x+1"); // loads the parser once, outside the timed cases
  const n = (k: number) => Array.from({ length: k }, (_, i) => i);
  const cases: readonly (readonly [string, string])[] = [
    ["\\frac{".repeat(60) + "1" + "}{2}".repeat(60), "1"],
    ["10^{10^{10^{10^{10}}}}", "10^{10^{10^{10^{10}}}}+1"],
    ["10^{10^{10}}", "10^{10^{10}}+1"],
    ["(10^{10})!", "(10^{10})!+1"],
    ["100000!", "100001!"],
    ["2^{2^{2^{2^{2}}}}", "2^{65536}"],
    ["2^{60}", "2^{60}+1"],
    [n(600).map(() => "1").join("+"), "600"],
    [n(150).map((i) => `x_{${i}}`).join("+"), "x_0"],
    [
      "\\{" + n(180).map((i) => `\\sqrt{${i}}`).join(",") + "\\}",
      "\\{" + n(180).map((i) => `\\sqrt{${180 - i}}`).join(",") + "\\}",
    ],
    ["\\boxed{" + "{".repeat(1900), "1"],
    ["1\\pm2\\pm3", "1"],
    [n(300).map(() => "(0,1)").join("\\cup"), "(0,1)"],
    ["1".repeat(2001), "1".repeat(2001)],
    ["\\sqrt{-1}", "-i"],
  ];
  for (const [a, b] of cases) {
    const start = performance.now();
    assert.equal(mathEqual(a, b), false, a.slice(0, 60));
    assert.equal(mathEqual(b, a), false, b.slice(0, 60));
    const ms = performance.now() - start;
    // Milliseconds when measured alone; the bound leaves room for a loaded CI machine.
    assert.ok(ms < 1500, `${a.slice(0, 40)} took ${ms} ms`);
  }
});

Deno.test("mathEqual() applies the boxed and chained policies as configured", () => {
  const hedge = "\\boxed{3} or maybe \\boxed{4}";
  assert.equal(mathEqual(hedge, "4"), true, "not connectives: the last box");
  assert.equal(mathEqual("\\boxed{3} or \\boxed{4}", "4"), false);
  assert.equal(mathEqual("\\boxed{3} or \\boxed{4}", "\\{3,4\\}"), true);
  assert.equal(
    mathEqual("\\boxed{3} or \\boxed{4}", "4", { boxed: "last" }),
    true,
  );
  assert.equal(mathEqual("x = 2 + 3 = 5", "5"), true);
  assert.equal(mathEqual("x = 2 + 3 = 5", "5", { chained: "whole" }), false);
  assert.equal(mathEqual("x = 5", "x=5", { chained: "whole" }), true);
  assert.equal(mathEqual("x + y = 5", "5"), false, "the left side is no name");
});

Deno.test("mathEqual() never throws, and never equals x with x+1, on random LaTeX fragments", () => {
  // No "$" or "\\boxed": those make prose around an answer, where text outside the answer is rightly ignored.
  const atoms = [
    ...["\\frac", "\\sqrt", "{", "}", "(", ")", "[", "]", "^", "_", "x", "1"],
    ...["\\left", "\\right", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\"],
    ...[
      "=",
      "<",
      "\\le",
      ",",
      "\\pm",
      "\\cup",
      "\\fbox",
      "\\text{",
      "i",
    ],
    ...["e", "\\pi", "!", "|", "\\infty", "'", "%", "\\$", ".", "-", "\\sum"],
    ...["\\lim", "\\{", "\\}", "\\log", "\\sin", ":", ";", "\\cdot", "\\", " "],
  ];
  let seed = 42;
  const pick = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const fragment = (n: number) =>
    Array.from({ length: 1 + pick(n) }, () => atoms[pick(atoms.length)]).join(
      "",
    );
  for (let k = 0; k < 2000; k++) {
    const a = fragment(30);
    assert.equal(typeof mathEqual(a, fragment(10)), "boolean");
    assert.equal(mathEqual(a, a + "+1"), false, a);
  }
});

Deno.test("normalizeAnswer() is linear in runs of spaces (the and/or rule was quadratic)", () => {
  // Found by math_fuzz_test.ts: "\s*,?\s*\b(?:and|or)\b\s*" was tried at every space of a run and scanned the run to
  // its end each time, so 1,600 spaces (or "$", "\(", "\,", which become spaces) took a second per answer.
  const time = (text: string) => {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const start = performance.now();
      normalizeAnswer(text);
      best = Math.min(best, performance.now() - start);
    }
    return best;
  };
  for (const unit of [" ", "$", "\\,"]) {
    const small = time(unit.repeat(200) + "1");
    const big = time(unit.repeat(1600) + "1");
    // 8 times the text: 8 times the time when linear, 64 when quadratic; the floor absorbs timer noise.
    assert.ok(
      big < 20 * Math.max(small, 0.5),
      `${JSON.stringify(unit)}: ${small} ms at 200, ${big} ms at 1600`,
    );
  }
  assert.equal(normalizeAnswer("1" + " ".repeat(1600) + "and 2"), "1,2");
  assert.equal(normalizeAnswer("1 ,  or  2"), "1,2");
  assert.equal(mathEqual(" ".repeat(1600) + "1", "1"), true);
});
