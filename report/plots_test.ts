import assert from "node:assert/strict";
import { svgMarks } from "../tests/fixtures/svg_marks.ts";
import { renderPlots } from "./plot_render.ts";
import { lineChart, type LineChartOptions } from "./plots.ts";

function draw(o: LineChartOptions): Promise<string> {
  return renderPlots(lineChart(o));
}

Deno.test("lineChart() draws one line per series and a dot per point", async () => {
  const svg = await draw({
    title: "Mean reward",
    yLabel: "reward",
    series: [
      { name: "drafter", points: [[1, 0.1], [2, 0.2], [3, 0.3]] },
      { name: "finisher", points: [[1, 0.4], [2, 0.5], [3, 0.6]] },
    ],
  });
  const m = svgMarks(svg);
  assert.deepEqual(m.segments, [3, 3]);
  assert.equal(m.points, 6);
  assert.deepEqual(m.legend, ["drafter", "finisher"]);
  assert.match(svg, /aria-label="finisher, step 3: 0\.60"/);
});

Deno.test("lineChart() leaves a gap at a null and draws a lone point as a dot only", async () => {
  const m = svgMarks(
    await draw({
      title: "Loss",
      yLabel: "loss",
      series: [{
        name: "solver",
        points: [[1, 1], [2, 2], [3, null], [4, 3], [5, 4], [6, NaN], [7, 5]],
      }],
    }),
  );
  assert.deepEqual(m.segments, [2, 2]);
  assert.equal(m.points, 5);
});

Deno.test("lineChart() keeps a fixed y domain, whole-number step ticks and dashed series", async () => {
  const m = svgMarks(
    await draw({
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
    }),
  );
  // x ticks 0 and 1 only (no 0.5), then the fixed y domain's 0.0 … 1.0.
  assert.deepEqual(m.tickLabels.slice(0, 2), ["0", "1"]);
  assert.equal(m.tickLabels.at(-1), "1.0");
  assert.equal(m.dashedLines, 1);
  // The dashed series shares the first series' colour.
  assert.deepEqual(m.lineColors, ["#0072B2", "#0072B2"]);
});

Deno.test("lineChart() escapes series names and says when it has no data", async () => {
  const svg = await draw({
    title: "<b>t</b>",
    yLabel: "y",
    series: [{ name: "<script>alert(1)</script>", points: [[1, null]] }],
  });
  assert.ok(!svg.includes("<script"));
  assert.ok(!svg.includes("<b>"));
  assert.match(svg, /&lt;script&gt;/);
  assert.match(svg, />no data</);
  assert.equal(svgMarks(svg).points, 0);
});
