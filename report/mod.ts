/**
 * The report layer: the run report (with its bias section), the training report, score-layer comparison,
 * the plots and the statistics they draw on. Imports dsl, runtime, coaches and training; only the CLI
 * and the root `mod.ts` import it.
 *
 * @module
 */
export * from "./compare.ts";
export * from "./compare_format.ts";
export * from "./compare_run.ts";
export * from "./plots.ts";
export * from "./plots_distribution.ts";
export * from "./run_report.ts";
export * from "./stats.ts";
export * from "./training_report.ts";
