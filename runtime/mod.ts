/**
 * The runtime: runs a compiled pipeline over a dataset split with model clients, sandboxed tools and a
 * run store. Imports only `dsl/` of mappa; implementations reach it through the ports of `ports.ts`.
 *
 * @module
 */
export * from "./action_history.ts";
export * from "./events.ts";
export * from "./format_progress.ts";
export * from "./json_lines.ts";
export * from "./llm/create_model_client.ts";
export * from "./llm/model_router.ts";
export * from "./llm/model_script.ts";
export * from "./llm/openai_client.ts";
export * from "./llm/scripted_client.ts";
export * from "./load_tasks.ts";
export * from "./manifest.ts";
export * from "./model_concurrency.ts";
export type {
  ChatMessage,
  Coach,
  ExecLimits,
  ExecRequest,
  ExecResult,
  ExecStatus,
  ModelClient,
  ModelRequest,
  ModelResponse,
  PreflightReport,
  Sandbox,
  StreamCapture,
  ToolCall,
  ToolSpec,
  Usage,
} from "./ports.ts";
export * from "./package_files.ts";
export * from "./path_error.ts";
export * from "./preflight.ts";
export * from "./run_pipeline.ts";
export * from "./spec_regex.ts";
export * from "./run_store.ts";
export * from "./run_summary.ts";
export * from "./sandbox/bwrap_sandbox.ts";
export * from "./sandbox/sandbox_error.ts";
export * from "./sandbox/unsafe_sandbox.ts";
export * from "./sha_keyed_store.ts";
export * from "./write_file_atomic.ts";
export * from "./graders/grade.ts";
export * from "./graders/json_program.ts";
export * from "./graders/ungraded_error.ts";
export * from "./make_bundle.ts";
export * from "./parse_reply.ts";
export * from "./render_prompt.ts";
export * from "./spec_source.ts";
export * from "./extract_output.ts";
export * from "./role_result.ts";
export * from "./run_log.ts";
export * from "./check_workspace.ts";
export * from "./graders/shown_value.ts";
