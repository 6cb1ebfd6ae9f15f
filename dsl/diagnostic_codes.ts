/**
 * Every diagnostic code the compiler emits, one row each in docs/diagnostics.md.
 *
 * Codes are stable identifiers: tests assert them, tools match on them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DIAGNOSTIC_CODES } from "./diagnostic_codes.ts";
 * assert(DIAGNOSTIC_CODES.includes("unknown_role"));
 * ```
 */
export const DIAGNOSTIC_CODES = [
  // Phase 1: reading files and YAML syntax.
  "file_not_found",
  "file_is_directory",
  "file_too_large",
  "file_not_text",
  "over_budget",
  "yaml_syntax",
  "duplicate_key",
  // Phase 2: includes and extends.
  "include_cycle",
  "invalid_include",
  "invalid_module",
  "include_outside_folder",
  // Phase 3: interpolation.
  "undefined_env_var",
  "invalid_interpolation",
  // Phase 4: shape (zod issue codes).
  "invalid_type",
  "missing_key",
  "unrecognized_keys",
  "invalid_value",
  "too_small",
  "too_big",
  "invalid_format",
  // Phase 5: semantic rules (one file each under dsl/rules/).
  "duplicate_id",
  "unknown_role",
  "unknown_model",
  "unknown_tool",
  "unknown_split",
  "flow_cycle",
  "unreachable_role",
  "unbounded_loop",
  "invalid_loop",
  "unproduced_input",
  "handoff_not_upstream",
  "template_syntax",
  "unknown_template_variable",
  "outcome_not_visible",
  "unknown_output",
  "unknown_metric",
  "invalid_regex",
  "invalid_json_schema",
  "score_out_of_scale",
  "trainable_conflict",
  "missing_dataset_file",
  "self_preference",
  "conflicting_values",
  "slow_regex",
  "split_overlap",
  // Always last when the cap is reached.
  "too_many_errors",
] as const;

/** A stable identifier of one kind of spec problem. */
export type DiagnosticCode = typeof DIAGNOSTIC_CODES[number];
