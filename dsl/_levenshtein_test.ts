import assert from "node:assert/strict";
import fc from "fast-check";
import {
  boundedLevenshtein,
  closest,
  didYouMean,
  levenshtein,
} from "./_levenshtein.ts";

Deno.test("levenshtein() counts insertions, deletions and substitutions", () => {
  assert.equal(levenshtein("kitten", "sitting"), 3);
  assert.equal(levenshtein("", "abc"), 3);
  assert.equal(levenshtein("abc", ""), 3);
  assert.equal(levenshtein("reviewer", "reviewr"), 1);
  assert.equal(levenshtein("same", "same"), 0);
});

Deno.test("levenshtein() is a metric bounded by the longer length", () => {
  const word = fc.string({ maxLength: 12 });
  fc.assert(
    fc.property(word, word, word, (a, b, c) => {
      const ab = levenshtein(a, b);
      assert.equal(ab, levenshtein(b, a));
      assert.equal(ab === 0, a === b);
      assert.ok(ab >= Math.abs(a.length - b.length));
      assert.ok(ab <= Math.max(a.length, b.length));
      assert.ok(levenshtein(a, c) <= ab + levenshtein(b, c));
    }),
    { numRuns: 200 },
  );
});

Deno.test("closest() ignores case and allows about a third of the name in edits", () => {
  assert.equal(closest("reviewr", ["writer", "reviewer"]), "reviewer");
  assert.equal(closest("REVIEWER", ["reviewer"]), "reviewer");
  assert.equal(closest("ab", ["cd"]), undefined);
  // At least one edit is allowed even for short names, at most three for long ones.
  assert.equal(closest("a", ["b"]), "b");
  assert.equal(closest("problem_solverxxxx", ["problem_solver"]), undefined);
  assert.equal(
    closest("problem_solverxxx", ["problem_solver"]),
    "problem_solver",
  );
});

Deno.test("closest() breaks ties alphabetically, whatever the candidate order", () => {
  assert.equal(closest("abc", ["abe", "abd"]), "abd");
  assert.equal(closest("abc", ["abd", "abe"]), "abd");
  assert.equal(closest("x", []), undefined);
});

Deno.test("didYouMean() suggests the closest name, else lists a few valid ones", () => {
  assert.equal(didYouMean("reviewr", ["reviewer"]), 'did you mean "reviewer"?');
  assert.equal(
    didYouMean("zzzzzz", ["a", "b"], "role"),
    'valid roles: "a", "b"',
  );
  assert.equal(didYouMean("zzzzzz", ["a", "b"]), 'valid values: "a", "b"');
  assert.equal(didYouMean("zzzzzz", "abcdefghi".split("")), undefined);
  assert.equal(didYouMean("x", []), undefined);
});

Deno.test("boundedLevenshtein() agrees with levenshtein() up to its bound", () => {
  const word = fc.string({ maxLength: 12 });
  fc.assert(
    fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, max) => {
      assert.equal(
        boundedLevenshtein(a, b, max),
        Math.min(levenshtein(a, b), max + 1),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("closest() on 30,000-character names answers at once (issue 14)", () => {
  const long = "a".repeat(30_000);
  const started = performance.now();
  assert.equal(
    closest(long, [long.slice(1) + "b", "a".repeat(29_999)]),
    undefined,
  );
  assert.equal(closest("reviewr", [long, "reviewer"]), "reviewer");
  assert.ok(performance.now() - started < 100);
});
