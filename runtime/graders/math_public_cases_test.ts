import assert from "node:assert/strict";
import { mathEqual } from "./math_answer.ts";

/**
 * One labelled pair from a public answer-equivalence suite (tests/math_equivalence/public_cases.jsonl): `source` is
 * repository@commit, path and test name; `kind` is "answer" (both sides are answers) or "free_text" (one side is prose
 * the answer must first be found in; see tests/math_equivalence/README.md for the rule).
 */
interface PublicCase {
  readonly source: string;
  readonly kind: "answer" | "free_text";
  readonly gold: string;
  readonly pred: string;
  readonly equal: boolean;
  readonly precision?: number;
}

const CASES: readonly PublicCase[] = Deno.readTextFileSync(
  new URL("../../tests/math_equivalence/public_cases.jsonl", import.meta.url),
).trim().split("\n").map((line) => JSON.parse(line) as PublicCase);

// Floors measured on this table; raise them when the grader improves, never lower them to pass.
const FLOOR_ANSWER = 0.95;
const FLOOR_ALL = 0.96;

interface Tally {
  cases: number;
  agree: number;
  falsePositives: string[];
  slowestMs: number;
}

function tally(rows: readonly PublicCase[]): Tally {
  mathEqual("x", "x+1"); // loads the parser once, outside the timed cases
  const t: Tally = { cases: 0, agree: 0, falsePositives: [], slowestMs: 0 };
  for (const row of rows) {
    const start = performance.now();
    const got = mathEqual(row.pred, row.gold, { precision: row.precision });
    t.slowestMs = Math.max(t.slowestMs, performance.now() - start);
    t.cases++;
    if (got === row.equal) t.agree++;
    else if (got) {
      t.falsePositives.push(`${row.source}: "${row.gold}" vs "${row.pred}"`);
    }
  }
  return t;
}

Deno.test("mathEqual() grades no public 'not equal' case equal", () => {
  assert.ok(CASES.length >= 300);
  assert.deepEqual(tally(CASES).falsePositives, []);
});

Deno.test("mathEqual() agrees with the public suites' labels at the measured floor", () => {
  const answers = tally(CASES.filter((c) => c.kind === "answer"));
  const all = tally(CASES);
  assert.ok(
    answers.agree / answers.cases >= FLOOR_ANSWER,
    `answer cases: ${answers.agree}/${answers.cases}`,
  );
  assert.ok(
    all.agree / all.cases >= FLOOR_ALL,
    `all cases: ${all.agree}/${all.cases}`,
  );
  // A case takes milliseconds when measured alone; the bound leaves room for a loaded CI machine.
  assert.ok(all.slowestMs < 2000, `slowest case took ${all.slowestMs} ms`);
});

/** Prints the per-source figures (README's table): `deno run -A runtime/graders/math_public_cases_test.ts`. */
if (import.meta.main) {
  const bySource = new Map<string, PublicCase[]>();
  for (const c of CASES) {
    const key = `${c.source.split(" ")[0]} (${c.kind})`;
    bySource.set(key, [...(bySource.get(key) ?? []), c]);
  }
  for (const [key, rows] of [...bySource].sort()) {
    const t = tally(rows);
    // deno-lint-ignore no-console
    console.log(
      `${key}: ${t.cases} cases, ${
        (100 * t.agree / t.cases).toFixed(1)
      }% agree, ${t.falsePositives.length} false positives`,
    );
  }
  const t = tally(CASES);
  // deno-lint-ignore no-console
  console.log(
    `all: ${t.cases} cases, ${
      (100 * t.agree / t.cases).toFixed(1)
    }% agree, ${t.falsePositives.length} false positives, slowest ${
      t.slowestMs.toFixed(0)
    } ms`,
  );
}
