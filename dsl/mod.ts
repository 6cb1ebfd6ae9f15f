/**
 * The spec language: schema, loading with source positions, semantic rules, diagnostics, JSON Schema
 * export and `compile()` to an `ExecutionGraph`. Imports nothing else of mappa.
 *
 * @module
 */
export * from "./compile.ts";
export * from "./compile_module.ts";
export * from "./define_pipeline.ts";
export * from "./diagnostic.ts";
export * from "./diagnostic_codes.ts";
export * from "./graph.ts";
export * from "./graph_export.ts";
export * from "./json_schema.ts";
export * from "./render_diagnostic.ts";
export * from "./schema.ts";
export * from "./source_text.ts";
export * from "./grader_metrics.ts";
export { globMatch, globsOverlap, isGlob } from "./glob.ts";
export * from "./budgets.ts";
export * from "./build_graph.ts";
export * from "./bundle.ts";
export * from "./check_shape.ts";
export * from "./interpolate.ts";
export * from "./load_spec.ts";
export * from "./outcome_judges.ts";
export * from "./read_scope.ts";
export * from "./read_spec_file.ts";
export * from "./reserved_keys.ts";
export * from "./rubric_file.ts";
export * from "./rules/command_checks.ts";
export * from "./source_tree.ts";
