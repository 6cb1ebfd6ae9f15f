import assert from "node:assert/strict";
import { plotMarks } from "../tests/fixtures/plot_marks.ts";
import { lineChart } from "./plots.ts";

Deno.test("lineChart() draws one line per series and a dot per point", () => {
  const svg = lineChart({
    title: "Mean reward",
    yLabel: "reward",
    series: [
      { name: "drafter", points: [[1, 0.1], [2, 0.2], [3, 0.3]] },
      { name: "finisher", points: [[1, 0.4], [2, 0.5], [3, 0.6]] },
    ],
  });
  const m = plotMarks(svg);
  assert.deepEqual(m.segments, [3, 3]);
  assert.equal(m.points, 6);
  assert.deepEqual(m.legend, ["drafter", "finisher"]);
  assert.match(svg, /<title>finisher, step 3: 0\.60<\/title>/);
});

Deno.test("lineChart() leaves a gap at a null and draws a lone point as a dot only", () => {
  const m = plotMarks(lineChart({
    title: "Loss",
    yLabel: "loss",
    series: [{
      name: "solver",
      points: [[1, 1], [2, 2], [3, null], [4, 3], [5, 4], [6, NaN], [7, 5]],
    }],
  }));
  assert.deepEqual(m.segments, [2, 2]);
  assert.equal(m.points, 5);
});

Deno.test("lineChart() keeps a fixed y domain, whole-number step ticks and dashed series", () => {
  const m = plotMarks(lineChart({
    title: "Success",
    yLabel: "rate",
    yDomain: [0, 1],
    series: [
      { name: "eval", points: [[0, 0.2], [1, 0.3]] },
      {
        name: "eval (B)",
        points: [[0, 0.1], [1, 0.4]],
        dashed: true,
        color: 0,
      },
    ],
  }));
  assert.deepEqual(m.xTicks, ["0", "1"]);
  assert.equal(m.yTicks[0], "0.0");
  assert.equal(m.yTicks.at(-1), "1.0");
  assert.equal(m.dashedLines, 1);
  // The dashed series shares the first series' colour.
  assert.deepEqual(m.lineColors, ["#0072B2", "#0072B2"]);
});

Deno.test("lineChart() escapes series names and says when it has no data", () => {
  const svg = lineChart({
    title: "<b>t</b>",
    yLabel: "y",
    series: [{ name: "<script>alert(1)</script>", points: [[1, null]] }],
  });
  assert.ok(!svg.includes("<script"));
  assert.ok(!svg.includes("<b>"));
  assert.match(svg, /&lt;script&gt;/);
  assert.match(svg, />no data</);
  assert.equal(plotMarks(svg).points, 0);
});
