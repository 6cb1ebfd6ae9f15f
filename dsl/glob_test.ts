import assert from "node:assert/strict";
import { globMatch, globsOverlap, isGlob } from "./glob.ts";

Deno.test("isGlob() tells glob patterns from literal paths", () => {
  for (const p of ["*.csv", "data/**", "{a,b}.csv", "x?.csv", "[ab].csv"]) {
    assert.equal(isGlob(p), true, p);
  }
  for (const p of ["a.csv", "data/train.csv", "X_train.pkl"]) {
    assert.equal(isGlob(p), false, p);
  }
});

Deno.test("globMatch() matches a literal only itself and keeps * within a folder", () => {
  assert.equal(globMatch("a.csv", "a.csv"), true);
  assert.equal(globMatch("a.csv", "b.csv"), false);
  assert.equal(globMatch("*.pkl", "X_train.pkl"), true);
  assert.equal(globMatch("*.pkl", "dir/x.pkl"), false);
  assert.equal(globMatch("**/*.pkl", "dir/x.pkl"), true);
  assert.equal(globMatch("*.pkl", ".hidden.pkl"), true); // dot files count as files
});

Deno.test("globsOverlap() compares two literals exactly", () => {
  assert.equal(globsOverlap("a.csv", "a.csv"), true);
  assert.equal(globsOverlap("a.csv", "b.csv"), false);
});

Deno.test("globsOverlap() matches a literal against a glob, either way round", () => {
  assert.equal(globsOverlap("*.pkl", "X_train.pkl"), true);
  assert.equal(globsOverlap("X_train.pkl", "*.pkl"), true);
  assert.equal(globsOverlap("data/**", "data/a/b.csv"), true);
  assert.equal(globsOverlap("*.joblib", "model.pkl"), false);
  assert.equal(globsOverlap("{a,b}.csv", "b.csv"), true);
  assert.equal(globsOverlap("out/?.txt", "out/1.txt"), true);
});

Deno.test("globsOverlap() finds overlapping globs and keeps disjoint ones apart", () => {
  assert.equal(globsOverlap("*.pkl", "*.pkl"), true);
  assert.equal(globsOverlap("data/**", "data/*.csv"), true);
  assert.equal(globsOverlap("data/*.csv", "data/**"), true);
  assert.equal(globsOverlap("*.pkl", "*.csv"), false);
  assert.equal(globsOverlap("data/**", "models/*.pkl"), false);
});

Deno.test("globsOverlap() is exact for globs that share no literal form", () => {
  assert.equal(globsOverlap("model_*.pkl", "*_v2.pkl"), true); // both match model_v2.pkl
  assert.equal(globsOverlap("a*b", "*c"), false);
  assert.equal(globsOverlap("*.{pkl,joblib}", "model.*"), true);
  assert.equal(globsOverlap("*/x.csv", "a/b/x.csv"), false); // * stays within one folder
  assert.equal(globsOverlap("**/x.csv", "*.csv"), true); // ** also matches no folder at all
  assert.equal(globsOverlap("[ab]*.csv", "c*.csv"), true); // classes over-approximate
  assert.equal(globsOverlap("x?", "x/"), false);
});

Deno.test("globMatch() answers a backtracking glob against a long name at once (issue 14)", () => {
  const started = performance.now();
  assert.equal(globMatch("*a*a*a*a*a*a*a*a*c", "a".repeat(4000)), false);
  assert.equal(globMatch("*a*a*a*a*a*a*a*a*c", `${"a".repeat(40)}c`), true);
  assert.equal(globMatch("./out/*.csv", "out/x.csv"), true);
  assert.equal(globMatch("out/**/*.csv", "out/a/b/x.csv"), true);
  assert.equal(globMatch("out/*.csv", "out/a/x.csv"), false);
  assert.ok(performance.now() - started < 500);
});

Deno.test("globsOverlap() refuses to expand {a,b} twenty times and compares a long literal linearly (issue 14)", () => {
  const started = performance.now();
  assert.equal(
    globsOverlap("{a,b}".repeat(20), "{a,b}".repeat(20) + "x"),
    true,
  );
  assert.equal(globsOverlap("*a*a*a*a*a*a*a*a*c", "a".repeat(250)), false);
  assert.ok(performance.now() - started < 500);
});
