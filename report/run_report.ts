import { layerBiasPart, runBiasPart } from "./report_bias.ts";
import { loadRunData } from "./report_data.ts";
import { outcomeBasis, scoredActions } from "./report_rows.ts";
import { layerScale, readGraph } from "./report_graph.ts";
import { html } from "./report_html.ts";
import { reportPage, writeReportFile } from "./report_page.ts";
import { layerSection, unjudgedActions } from "./report_layer.ts";
import {
  errorsSection,
  headerSection,
  outcomesSection,
} from "./report_sections.ts";

// `deno task report <run> [--bias]`: one self-contained HTML file (DESIGN.md decision 6, issue 4 item 7).
// No scripts, fonts or remote resources: plots are inline SVG, styles inline, so it opens offline as is.

/** Options of `buildReport` and `writeReport`. */
export interface ReportOptions {
  /**
   * Adds the coach-bias sections: category gap conditioned on outcome, score against response length,
   * judge/agent model families, agreement between score layers.
   * @default false
   */
  readonly bias?: boolean;
  /**
   * The time printed as "Report built"; fixed in tests for byte-stable output.
   * @default new Date()
   */
  readonly now?: Date;
}

/**
 * Builds the HTML report of a run directory: header (spec, policy, models, sandbox, status, time, cost),
 * outcomes, per score layer the score distributions by role and task category, scores against outcomes,
 * unscored verdicts and judge cost, tool errors and contract violations per role, and with `bias` the
 * coach-bias checks. Every string from the run is escaped. Throws when the directory is not a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport } from "./run_report.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({ run_id: "demo__0__1", policy: "demo" }));
 * await Deno.writeTextFile(`${dir}/events.jsonl`, "");
 * const page = await buildReport(dir);
 * assert.match(page, /DEMO POLICY/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function buildReport(
  runDir: string,
  options: ReportOptions = {},
): Promise<string> {
  const data = await loadRunData(runDir);
  const graph = readGraph(data.manifest);
  const basis = outcomeBasis(data);
  const layers = data.layers.map((layer) => ({
    layer,
    rows: scoredActions(data, layer, basis),
    scale: layerScale(graph, layer.name),
  }));
  const title = `mappa report: ${
    typeof data.manifest.run_id === "string" ? data.manifest.run_id : runDir
  }`;
  const body = html`${headerSection(data, graph, options.now ?? new Date())}${
    outcomesSection(data, basis)
  }${
    layers.length === 0
      ? html`
        <section>
          <h2>Scores</h2>
          <p>No score layers: the run was not coached (score it with <code>deno task rescore</code>).</p>
        </section>
      `
      : layers.map(({ layer, rows, scale }) =>
        layerSection(
          data,
          layer,
          rows,
          basis,
          scale,
          unjudgedActions(data, layer, graph.role_rubrics),
        )
      )
  }${errorsSection(data, graph)}${
    options.bias
      ? html`${
        layers.map(({ layer, rows, scale }) =>
          layerBiasPart(layer, rows, basis, scale)
        )
      }${runBiasPart(graph, data.layers)}`
      : null
  }`;
  return reportPage(title, body, runDir);
}

/**
 * Builds the report and writes it to `<runDir>/report.html` (through a temporary file and a rename, so a
 * reader never sees half a page); returns the path written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeReport } from "./run_report.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({ run_id: "r" }));
 * await Deno.writeTextFile(`${dir}/events.jsonl`, "");
 * assert.equal(await writeReport(dir, { bias: true }), `${dir}/report.html`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(
  runDir: string,
  options: ReportOptions = {},
): Promise<string> {
  return await writeReportFile(runDir, await buildReport(runDir, options));
}
