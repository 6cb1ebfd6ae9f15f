/**
 * mappa: declare a multi-agent LLM pipeline, run it, have a coach score every action, and train each
 * agent's own weights from those per-action rewards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile, renderDiagnostics } from "@mappa/mappa";
 * const result = compileFile("pipelines/math.yaml");
 * assert(result.ok, result.ok ? "" : renderDiagnostics(result.diagnostics, result.sources));
 * assert.deepEqual(result.graph.stages, [["problem_solver"], ["code_executor"], ["verifier"]]);
 * ```
 *
 * @module
 */
export {
  compile,
  compileFile,
  compileOrThrow,
  compileSpec,
  definePipeline,
  DIAGNOSTIC_CODES,
  formatPath,
  pipelineJsonSchema,
  PipelineSchema,
  renderDiagnostic,
  renderDiagnostics,
  SpecError,
  toDot,
  toMermaid,
} from "./dsl/mod.ts";
export {
  BwrapSandbox,
  createModelClient,
  runPipeline,
  RunStore,
  ScriptedModelClient,
} from "./runtime/mod.ts";
export { rescoreRun, RunCoach } from "./coaches/mod.ts";
export type { Evidence, Verdict } from "./coaches/mod.ts";
export {
  buildSamples,
  readMetrics,
  startLocalTrainer,
  TrainerClient,
  TrainerError,
  trainPipeline,
} from "./training/mod.ts";
export { compareRun, writeReport } from "./report/mod.ts";
export type {
  MetricsLine,
  Sample,
  TrainDeps,
  TrainOptions,
  TrainResult,
} from "./training/mod.ts";
export type {
  ModelClient,
  RunEvent,
  RunOptions,
  RunSummary,
  Sandbox,
} from "./runtime/mod.ts";
export type {
  CompileOptions,
  CompileResult,
  Diagnostic,
  DiagnosticCode,
  ExecutionGraph,
  GraphRole,
  Pipeline,
  PipelineInput,
  SourcePosition,
} from "./dsl/mod.ts";
