import assert from "node:assert/strict";
import { lineChart } from "./plots.ts";

function count(svg: string, pattern: RegExp): number {
  return svg.match(pattern)?.length ?? 0;
}

Deno.test("lineChart() draws one polyline per series and a dot per point", () => {
  const svg = lineChart({
    title: "Mean reward",
    yLabel: "reward",
    series: [
      { name: "drafter", points: [[1, 0.1], [2, 0.2], [3, 0.3]] },
      { name: "finisher", points: [[1, 0.4], [2, 0.5], [3, 0.6]] },
    ],
  });
  assert.equal(count(svg, /<polyline /g), 2);
  assert.equal(count(svg, /<circle /g), 6);
  assert.match(svg, /class="lg">drafter</);
  assert.match(svg, /class="lg">finisher</);
  assert.match(svg, /<title>finisher, step 3: 0\.60<\/title>/);
});

Deno.test("lineChart() leaves a gap at a null and draws a lone point as a dot only", () => {
  const svg = lineChart({
    title: "Loss",
    yLabel: "loss",
    series: [{
      name: "solver",
      points: [[1, 1], [2, 2], [3, null], [4, 3], [5, 4], [6, NaN], [7, 5]],
    }],
  });
  assert.equal(count(svg, /<polyline /g), 2);
  assert.equal(count(svg, /<circle /g), 5);
  const lines = [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1]!.split(" ").length
  );
  assert.deepEqual(lines, [2, 2]);
});

Deno.test("lineChart() keeps a fixed y domain, whole-number step ticks and dashed series", () => {
  const svg = lineChart({
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
  });
  assert.match(svg, /class="tk">1<\/text>/);
  assert.match(svg, /class="tk">0<\/text>/);
  const xTicks = [...svg.matchAll(/text-anchor="middle" class="tk">([^<]*)</g)]
    .map((m) => m[1]);
  assert.deepEqual(xTicks, ["0", "1"]);
  assert.equal(count(svg, /<polyline [^>]*stroke-dasharray/g), 1);
  // The dashed series shares the first series' colour.
  assert.equal(count(svg, /stroke="#0072B2" stroke-width="2"/g), 4);
});

Deno.test("lineChart() escapes series names and says when it has no data", () => {
  const svg = lineChart({
    title: "<b>t</b>",
    yLabel: "y",
    series: [{ name: "<script>alert(1)</script>", points: [[1, null]] }],
  });
  assert.ok(!svg.includes("<script"));
  assert.ok(!svg.includes("<b>"));
  assert.match(svg, /&#60;script&#62;/);
  assert.match(svg, />no data</);
  assert.equal(count(svg, /<circle /g), 0);
});
