import assert from "node:assert/strict";
import { join } from "node:path";
import { buildReport, writeReport } from "../report/run_report.ts";
import {
  type SyntheticRun,
  writeSyntheticRun,
} from "../tests/fixtures/report_fixture.ts";
import {
  CHROMIUM,
  CHROMIUM_INSTALL,
  chromiumScreenshot,
} from "../bench/report_screenshot.ts";

const MALICIOUS = `<script>alert("pwned")</script>`;

// Known numbers, layer A (proc@abc123, LLM judge of family qwen) then layer B (proc2@def456):
//   e1 regression     success  solver 9 / 8   checker 8 / 8
//   e2 regression     failure  solver 5 / 5   checker 4 / 5 (a tool timeout)
//   e3 classification success  solver 7 / 7   checker 6 / 5
//   e4 classification failure  solver 4 / 3   checker 3 / 3 (the solver's reply is a <script>)
//   e5 classification failure  solver – / 2   checker 2 / 2 (episode failed; solver missed answer.txt)
// Success rate 2/5 = 40.0%. Layer A means: solver 6.25 (1 unscored), checker 4.60.
// Category gap (regression − classification), layer A: successes 8.5 − 6.5 = +2.00, failures
// 4.5 − 3.0 = +1.50, conditioned +1.75, pooled 6.5 − 4.4 = +2.10.
// Agreement over the 9 actions both layers scored: n = 18 values, Σ = 94, Σx² = 574;
// D_o = 2·4 / 18 = 0.444, D_e = (2·18·574 − 2·94²) / (18·17) = 9.778, α = 1 − D_o/D_e = 0.955;
// Cohen's κ on the rounded scores: p_o = 5/9, p_e = 1/9, κ = 0.500.
const RUN: SyntheticRun = {
  run_id: "synthetic__0__1",
  policy: "model",
  graph: {
    name: "synthetic",
    models: {
      actor: { provider: "openai", model: "Qwen/Qwen3-4B", family: "qwen" },
      other: { provider: "openai", model: "llama-3.1-8b", family: "llama" },
      judge: { provider: "openai", model: "qwen-max", family: "qwen" },
    },
    roles: [{ id: "solver", model: "actor" }, {
      id: "checker",
      model: "other",
    }],
    coach: {
      model: "judge",
      rubrics: { abc123: { name: "proc", scale: { min: 0, max: 10 } } },
    },
  },
  layers: [
    {
      name: "proc@abc123",
      judge: {
        kind: "llm",
        model: "judge",
        model_name: "qwen-max",
        attempts: 1,
        prompt_tokens: 100,
        completion_tokens: 20,
        cost_usd: 0.001,
        latency_ms: 50,
      },
    },
    { name: "proc2@def456", judge: {} },
  ],
  episodes: [
    {
      id: "e1",
      category: "regression",
      success: true,
      actions: [
        { role: "solver", reply: "a".repeat(400), scores: [9, 8] },
        { role: "checker", reply: "b".repeat(40), scores: [8, 8] },
      ],
    },
    {
      id: "e2",
      category: "regression",
      success: false,
      actions: [
        { role: "solver", reply: "a".repeat(100), scores: [5, 5] },
        {
          role: "checker",
          reply: "b".repeat(10),
          scores: [4, 5],
          tools: ["ok", "timeout"],
        },
      ],
    },
    {
      id: "e3",
      category: "classification",
      success: true,
      actions: [
        { role: "solver", reply: "a".repeat(300), scores: [7, 7] },
        { role: "checker", reply: "b".repeat(30), scores: [6, 5] },
      ],
    },
    {
      id: "e4",
      category: "classification",
      success: false,
      actions: [
        { role: "solver", reply: MALICIOUS, scores: [4, 3] },
        { role: "checker", reply: "b".repeat(20), scores: [3, 3] },
      ],
    },
    {
      id: "e5",
      category: "classification",
      success: false,
      status: "failed",
      error: "<b>boom</b>",
      actions: [
        {
          role: "solver",
          reply: "a".repeat(60),
          scores: [null, 2],
          missing: ["answer.txt"],
        },
        { role: "checker", reply: "b".repeat(15), scores: [2, 2] },
      ],
    },
  ],
};

async function withRun(
  run: SyntheticRun,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-report-test-" });
  try {
    await writeSyntheticRun(dir, run);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The text of a table row as the report writes it: `<tr><td>a</td><td>b</td>…`. */
function row(...cells: string[]): string {
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}`;
}

Deno.test("buildReport() shows success rate, per-role means and scores against outcomes", async () => {
  await withRun(RUN, async (dir) => {
    const page = await buildReport(dir);
    assert.match(page, /40\.0% \(2 of 5 graded\)/);
    assert.ok(page.includes(row("solver", "4", "1", "6.25")), "solver mean");
    assert.ok(page.includes(row("checker", "5", "0", "4.60")), "checker mean");
    // role, episodes (success / failure), mean | success, mean | failure, difference, AUC, r
    assert.ok(
      page.includes(
        row("solver", "2 / 2", "8.00", "4.50", "3.50", "1.000", "0.911"),
      ),
      "solver against outcomes",
    );
    assert.ok(
      page.includes(
        row("checker", "2 / 3", "7.00", "3.00", "4.00", "1.000", "0.910"),
      ),
      "checker against outcomes",
    );
    assert.ok(page.includes(row("judge_error", "1", "solver 1")), "unscored");
    assert.ok(page.includes("1 (timeout 1)"), "tool errors per role");
    assert.match(page, /answer\.txt/);
    assert.doesNotMatch(page, /Coach bias/);
  });
});

Deno.test("buildReport() reads a last record without its newline, and counts a line cut short as unreadable", async () => {
  await withRun(RUN, async (dir) => {
    const path = join(dir, "outcomes.jsonl");
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.trimEnd()); // written by hand: no final newline
    assert.match(await buildReport(dir), /40\.0% \(2 of 5 graded\)/);
    await Deno.writeTextFile(path, text + '{"episode_id": "e6", "succ');
    assert.match(
      await buildReport(dir),
      /1 line\(s\) of events\.jsonl or outcomes\.jsonl are not JSON/,
    );
  });
});

Deno.test("buildReport() with bias shows the category gap conditioned on outcome, the family warning and alpha", async () => {
  await withRun(RUN, async (dir) => {
    const page = await buildReport(dir, { bias: true });
    assert.ok(
      page.includes(
        row("regression − classification", "+2.00", "+1.50", "+1.75", "+2.10"),
      ),
      "category gap of layer A",
    );
    assert.ok(
      page.includes(row("classification", "6.50 (2)", "3.00 (3)", "4.40 (5)")),
    );
    assert.match(page, /Possible category bias/);
    assert.match(
      page,
      /share a model family: judge &quot;judge&quot; \(spec coach\) and role\(s\) &quot;solver&quot; are both family &quot;qwen&quot;/,
    );
    assert.doesNotMatch(page, /&quot;checker&quot; are both family/);
    assert.match(page, /α = 0\.955/);
    // Layers in name order; actions, κ (rounded), κ quadratic (1 − Σ(a − b)²/n / Σ(aᵢ − bⱼ)²/n² = 0.952),
    // Spearman ρ, mean |A − B| = 4/9.
    assert.equal(
      page.match(/<tr><td>proc2@def456<\/td>.*?<\/tr>/)?.[0],
      `${
        row(
          "proc2@def456",
          "proc@abc123",
          "9",
          "0.500",
          "0.952",
          "0.957",
          "0.44",
        )
      }</tr>`,
    );
    assert.match(page, /Spearman ρ \(length, score\)/);
    assert.ok(page.includes(row("solver", "4", "1.000")), "length rho");
  });
});

Deno.test("buildReport() output is self-contained and escapes run-controlled strings", async () => {
  await withRun(RUN, async (dir) => {
    const page = await buildReport(dir, { bias: true });
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /<link|<iframe|<img|@import|url\(/i);
    assert.doesNotMatch(page, /\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    assert.ok(
      page.includes("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"),
      "the reply is shown, escaped",
    );
    assert.ok(page.includes("&lt;b&gt;boom&lt;/b&gt;"), "the episode error");
    assert.ok((page.match(/<svg /g) ?? []).length >= 10, "inline plots");
  });
});

Deno.test("buildReport() says not graded and flags the demo policy", async () => {
  await withRun(
    {
      ...RUN,
      policy: "demo",
      episodes: RUN.episodes.map((e) => ({ ...e, success: null })),
    },
    async (dir) => {
      const page = await buildReport(dir);
      assert.match(page, /DEMO POLICY/);
      assert.match(page, /not graded/);
      assert.doesNotMatch(page, /40\.0%/);
      // Episode status stands in: e5 failed, the others completed.
      assert.match(page, /episode status stands in for the outcome/);
    },
  );
});

Deno.test("writeReport() writes report.html and reports an unreadable layer instead of failing", async () => {
  await withRun(RUN, async (dir) => {
    await Deno.writeTextFile(
      join(dir, "scores", "broken@000.jsonl"),
      "{not json\n",
    );
    const path = await writeReport(dir, { bias: true });
    assert.equal(path, join(dir, "report.html"));
    const page = await Deno.readTextFile(path);
    assert.match(page, /Score layer <code>broken@000<\/code>/);
    assert.match(page, /Cannot read score layer/);
    assert.match(page, /α = 0\.955/);
  });
});

Deno.test("buildReport() rejects a directory that is not a run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      buildReport(dir),
      /Cannot report on run .*manifest\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

Deno.test({
  name:
    "report opens in headless Chromium without console errors and shows its plots",
  // Skipped only off CI: under CI a missing browser fails the test.
  ignore: !hasChromium && Deno.env.get("CI") === undefined,
  async fn() {
    if (!hasChromium) {
      assert.fail(
        `Cannot check the report in a browser: ${CHROMIUM} is missing (install it: ${CHROMIUM_INSTALL})`,
      );
    }
    await withRun(RUN, async (dir) => {
      const html = await writeReport(dir, { bias: true });
      const shot = await chromiumScreenshot(
        await Deno.realPath(html),
        join(dir, "report.png"),
      );
      assert.deepEqual(shot.console_errors, []);
      assert.equal(shot.width, 1280);
      assert.equal(shot.height, 2400);
      assert.ok(shot.bytes > 20_000, `PNG of ${shot.bytes} bytes`);
      assert.ok(shot.ink_share > 0.02, `ink ${shot.ink_share}`);
      assert.ok(shot.colour_share > 0.005, `colour ${shot.colour_share}`);
    });
  },
});
