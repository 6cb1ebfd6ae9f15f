import assert from "node:assert/strict";
import { mathEqual } from "./math_answer.ts";
import fc from "fast-check";
import { mathSegments } from "./_math_normalize.ts";

Deno.test("mathEqual() finds the answer in prose as Math-Verify does: statements, boxes, then the last value", () => {
  const cases: readonly (readonly [string, string, boolean])[] = [
    // "final answer … is X" and boxes: the rightmost of them
    [
      "Final Answer: The final answer is 12,000,023. I hope it is correct.",
      "12000023",
      true,
    ],
    [
      "Final Answer: The final answer is $14 {, }916$. I hope it is correct.",
      "14916",
      true,
    ],
    [
      "so \\boxed{255} in the first CD. The final answer is $10,455$. I hope it is correct.",
      "10455",
      true,
    ],
    [
      "so \\boxed{255} in the first CD. The final answer is $10,455$. I hope it is correct.",
      "255",
      false,
    ],
    [
      "Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.",
      "120",
      true,
    ],
    ["Final Answer: The final answer is 7.78.", "7.78", true],
    // a value within 50 characters after "answer"
    [
      "Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.",
      "3",
      true,
    ],
    [
      "The answer: $\\frac{1}{2}$, as computed above with 7 steps.",
      "\\frac12",
      true,
    ],
    // in prose, the last math segment or number
    [
      "Therefore, the probability that Alice wins the game is 2/3. <|im_start|>user",
      "\\frac23",
      true,
    ],
    ["the number is not 10 which is 1,000.99€", "1000.99", true],
    ["not it's not 10 it's 1,000.99m²", "1000.99", true],
    ["Soucis : 2,74 $ a..", "2.74", true],
    ["the position increases by 100%.", "100", true],
    // values joined by connectives stay a set, so hedging earns nothing
    ["it is either 1 or 2", "2", false],
    ["we get 10 and 4", "4", false],
    ["the sides are 3 cm or 4 cm", "4", false],
    ["\\boxed{3} Final Answer: The final answer is 3 or 4. I hope", "3", false],
    ["The final answer is $3$ or $4$.", "3", false],
    ["The final answer is $3$ or $4$.", "\\{3,4\\}", true],
    ["Answer: 3 or 4 and that is all", "3", false],
    ["The final answer is 3, and the other root is 5", "3", true],
    ["The final answer is 3\\pi. I hope", "3", false],
    // a number glued to letters is not a plain number, and a short text with one short word is no prose
    ["3ab", "3", false],
    ["the area is 3\\pi", "3", false],
    ["maybe 2x", "2", false],
    ["so 1,000.99m² in all", "1000.99", true],
    ["The roots are $1$, $2$ and $3$.", "\\{1,2,3\\}", true],
    // the trailing run of boxes, and boxes in one math segment, are one answer
    [
      "\\boxed{7} was wrong. So \\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]",
      "\\{1,-2\\}",
      true,
    ],
    [
      "$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$",
      "(3, 3), (1, 1)",
      true,
    ],
    [
      "$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$",
      "(1, 1)",
      false,
    ],
    // math across lines is unreadable, and gives no plain number either
    ["Answer $ \n 9 \n $", "9", false],
    ["Answer \\( \n 9 \n \\)", "9", false],
    // a matrix environment's name is not prose
    [
      "\\begin{bmatrix} 0 & 1 \\\\ 1 & 0 \\end{bmatrix}",
      "\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}",
      true,
    ],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(
      mathEqual(a, b),
      want,
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
  }
});

Deno.test("mathEqual() searches a long reply for its box, but not one over 100,000 characters", () => {
  const filler = "We check the case again and it holds. ".repeat(200); // 7,600 characters
  assert.equal(
    mathEqual(filler + "So the count is \\boxed{143}.", "143"),
    true,
  );
  assert.equal(
    mathEqual(filler + "Final Answer: The final answer is 143. I hope", "143"),
    true,
  );
  const huge = "x ".repeat(50_001) + "\\boxed{143}";
  assert.equal(mathEqual(huge, "143"), false);
});

Deno.test("mathSegments() stays linear on unclosed delimiters and matches the delimiters it always did", () => {
  assert.deepEqual(
    mathSegments("a $x$ b $$y$$ c \\[z\\] d \\(w\\) e $\\$5$").map((s) =>
      s.text
    ),
    ["x", "y", "z", "w", "\\$5"],
  );
  assert.deepEqual(mathSegments("$a\nb$ \\(c\nd\\)").map((s) => s.text), []);
  const units = [
    "\\(",
    "\\[",
    "$$",
    "$ \n",
    "\\boxed{",
    "final answer is ",
    "answer ",
    "1+",
    "7 ",
    "$1$ and ",
  ];
  for (const unit of units) {
    const hostile = unit.repeat(Math.ceil(90_000 / unit.length));
    const start = performance.now();
    mathEqual(hostile, "1");
    mathEqual(hostile + "1", "1");
    assert.ok(
      performance.now() - start < 1500,
      `${JSON.stringify(unit)} took ${performance.now() - start} ms`,
    );
  }
});

/** The math segments as the earlier regex found them (kept here as the reference for the linear scan). */
function segmentsByRegex(text: string): string[] {
  const re =
    /\$\$([^$]+)\$\$|\\\[([\s\S]+?)\\\]|\\\((.+?)\\\)|(?<!\\)\$((?:\\\$|[^$\n])+?)(?<!\\)\$/g;
  return [...text.matchAll(re)].map((m) =>
    (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim()
  ).filter((s) => s !== "");
}

Deno.test("mathSegments() agrees with the earlier regex on random texts without empty or escaped delimiters", () => {
  const parts = [
    "$",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\n",
    "a",
    " ",
    "x",
    "1",
  ];
  // Where they differ, the regex let an empty pair ("\(\)", "$$$") swallow the next closer; the scan skips the pair.
  const degenerate = /\\\(\s*\\\)|\\\[\s*\\\]|\$\$\$|\$\s+\$|\$\$\s*\$\$/;
  let compared = 0;
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...parts), { maxLength: 14 }),
      (xs) => {
        const text = xs.join("");
        if (degenerate.test(text)) return;
        compared++;
        assert.deepEqual(
          mathSegments(text).map((s) => s.text),
          segmentsByRegex(text),
        );
      },
    ),
    { numRuns: 3000, seed: 12 },
  );
  assert.ok(compared > 1000, `only ${compared} texts compared`);
});

Deno.test("mathEqual() never throws and stays quick on random prose with boxes, statements and numbers", () => {
  const parts = [
    ...[
      "The final answer is ",
      "answer: ",
      " is ",
      "$",
      "\\boxed{",
      "}",
      "\\(",
      "\\)",
      " and ",
      " or ",
      ". ",
    ],
    ...[
      "1",
      "2,5",
      "1,000",
      "3/4",
      "x",
      "cm",
      "words ",
      "\n",
      "\\frac{1}{2}",
      "=",
      "(",
      ")",
      "I hope",
    ],
  ];
  mathEqual("x", "x+1"); // loads the parser once, outside the timed cases
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...parts), { maxLength: 40 }),
      fc.constantFrom("1", "2.5", "\\frac12"),
      (xs, b) => {
        const start = performance.now();
        assert.equal(typeof mathEqual(xs.join(""), b), "boolean");
        assert.ok(performance.now() - start < 1000);
      },
    ),
    { numRuns: 1000, seed: 7 },
  );
});
