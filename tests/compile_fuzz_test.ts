import assert from "node:assert/strict";
import { compile, type Diagnostic } from "../dsl/mod.ts";
import { mulberry32 } from "../training/mod.ts";

// Issue 14: specs come from strangers. Mutations of the shipped specs (lines deleted, duplicated, swapped,
// hostile snippets, deep nesting, huge scalars) must never make compile() throw, take over 2 s, or
// report an error without a position. Seeded, so a failure names a case that replays.

const SEED = 14;
const CASES = 300;
const CASE_LIMIT_MS = 2000;
const TOTAL_LIMIT_MS = 60_000;
const SPECS = [
  "pipelines/math.yaml",
  "pipelines/debate.yaml",
  "pipelines/dsbench.yaml",
  "pipelines/dsbench_original.yaml",
  "pipelines/relay.yaml",
];

/** The same cases on every machine. */
const random = mulberry32;

const SNIPPETS: readonly string[] = [
  "${".repeat(5000),
  "x: ${env.HOME",
  "{{ {% ".repeat(3000),
  "{% if x == %}y{% endif %}",
  `k: ${"[".repeat(400)}${"]".repeat(400)}`,
  `k: ${"{a: ".repeat(300)}1${"}".repeat(300)}`,
  `${"- ".repeat(600)}x`,
  "base: &a { model: m }",
  "ref: *a",
  "<<: *a",
  "<<: [*a, *a]",
  "extends: /etc/passwd",
  "extends: ./",
  "extends: [./math.yaml, ./math.yaml]",
  "extends: ./relay.yaml",
  "user: file://prompts",
  "rubric: file://rubrics/relay.yaml",
  "user: file://.",
  "user: file:///dev/zero",
  "user: file://../../../../../etc/hostname",
  `produces: ["${"{a,b}".repeat(20)}"]`,
  `consumes: ["${"*a".repeat(8)}*c"]`,
  `id: ${"a".repeat(30_000)}`,
  `after: [${"b".repeat(30_000)}]`,
  "sampling: { min_tokens: 900, max_tokens: 9 }",
  "success: { metric: correct, at_least: 2, at_most: 1 }",
  "stop_pattern: '(a+)+$'",
  "produces: ['.']",
  "exclude_overlap_with: [train]",
  "demo: .",
  "entry: [finisher]",
  "\t- tab",
  ": : :",
  "? [a, b]",
  "!!binary aGVsbG8=",
  "---",
  "\u0000\ufeff\u202e",
  "key: 'unterminated",
  'key: "\\uZZZZ"',
];

type Mutation = (lines: string[], next: () => number) => string[];

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

function indentOf(line: string | undefined): string {
  return /^\s*/.exec(line ?? "")![0];
}

const MUTATIONS: readonly [string, Mutation][] = [
  [
    "delete a line",
    (ls, next) => ls.toSpliced(Math.floor(next() * ls.length), 1),
  ],
  ["duplicate a line", (ls, next) => {
    const i = Math.floor(next() * ls.length);
    return ls.toSpliced(i, 0, ls[i]!);
  }],
  ["swap two lines", (ls, next) => {
    const out = [...ls];
    const i = Math.floor(next() * ls.length),
      j = Math.floor(next() * ls.length);
    [out[i], out[j]] = [out[j]!, out[i]!];
    return out;
  }],
  ["insert a hostile snippet", (ls, next) => {
    const i = Math.floor(next() * ls.length);
    return ls.toSpliced(i, 0, indentOf(ls[i]) + pick(SNIPPETS, next));
  }],
  ["replace a value with a hostile snippet", (ls, next) => {
    const i = Math.floor(next() * ls.length);
    const line = ls[i]!;
    const colon = line.indexOf(": ");
    if (colon < 0) return ls;
    const snippet = pick(SNIPPETS, next).replace(/^[\w$]+: /, "");
    return ls.toSpliced(i, 1, `${line.slice(0, colon + 2)}${snippet}`);
  }],
  ["nest a value deeply", (ls, next) => {
    const depth = 50 + Math.floor(next() * 3000);
    const i = Math.floor(next() * ls.length);
    return ls.toSpliced(
      i,
      0,
      `${indentOf(ls[i])}deep: ${"[".repeat(depth)}${"]".repeat(depth)}`,
    );
  }],
  ["make a scalar huge", (ls, next) => {
    const size = pick([70_000, 600_000, 1_200_000], next);
    const i = Math.floor(next() * ls.length);
    return ls.toSpliced(i, 0, `${indentOf(ls[i])}huge: "${"x".repeat(size)}"`);
  }],
  ["truncate", (ls, next) => ls.slice(0, Math.floor(next() * ls.length))],
  ["alias a big scalar many times", (ls, next) => {
    const refs = Array(200).fill("*big").join(", ");
    const rows = Math.floor(next() * 60);
    return [
      ...ls,
      `big_anchor: &big "${"y".repeat(64 << 10)}"`,
      "many:",
      ...Array.from({ length: rows }, (_, k) => `  r${k}: [${refs}]`),
    ];
  }],
];

function unlocated(ds: readonly Diagnostic[]): Diagnostic[] {
  // too_many_errors is the cap's summary, not a problem at a place.
  return ds.filter((d) =>
    d.severity === "error" && d.code !== "too_many_errors" &&
    !((d.position?.line ?? 0) >= 1)
  );
}

Deno.test(`compile() survives ${CASES} mutated shipped specs: no throw, under 2 s each, every error located`, () => {
  const next = random(SEED);
  const texts = SPECS.map((f) => [f, Deno.readTextFileSync(f)] as const);
  const started = performance.now();
  let slowest = { ms: 0, name: "" };
  let failed = 0;
  for (let n = 0; n < CASES; n++) {
    const [file, text] = pick(texts, next);
    let lines = text.split("\n");
    const applied: string[] = [];
    const count = 1 + Math.floor(next() * 3);
    for (let k = 0; k < count; k++) {
      const [name, mutate] = pick(MUTATIONS, next);
      applied.push(name);
      lines = mutate(lines.length > 0 ? lines : [""], next);
    }
    const name = `case ${n} (${file}: ${applied.join(", ")})`;
    const t0 = performance.now();
    let result;
    try {
      result = compile(lines.join("\n"), { file, env: () => undefined });
    } catch (e) {
      assert.fail(`${name} threw ${e instanceof Error ? e.stack : e}`);
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, name };
    assert.ok(ms < CASE_LIMIT_MS, `${name} took ${ms.toFixed(0)} ms`);
    if (!result.ok) {
      failed++;
      const bad = unlocated(result.diagnostics);
      assert.deepEqual(
        bad.map((d) => `${d.code}: ${d.message}`),
        [],
        `${name} reported errors without a position`,
      );
    }
  }
  const total = performance.now() - started;
  assert.ok(
    total < TOTAL_LIMIT_MS,
    `${CASES} cases took ${total.toFixed(0)} ms`,
  );
  // Most mutations break the spec; a fuzz run where nothing fails tests nothing.
  assert.ok(
    failed > CASES / 2,
    `only ${failed} of ${CASES} cases failed to compile`,
  );
  assert.ok(slowest.ms < CASE_LIMIT_MS, slowest.name);
});
