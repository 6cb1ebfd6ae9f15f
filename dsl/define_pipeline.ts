import type { PipelineInput } from "./schema.ts";

/**
 * Declares a pipeline in TypeScript, typed from the same zod schema as YAML specs; `deno check` is the
 * first diagnostic layer and `compileSpec` the second.
 *
 * @example
 * ```ts
 * import { definePipeline } from "./define_pipeline.ts";
 * export default definePipeline({
 *   version: 1,
 *   name: "echo",
 *   models: { m: { model: "demo", provider: "scripted" } },
 *   roles: [{ id: "echo", description: "Repeats the task", model: "m", prompts: { user: "{{ task.text }}" } }],
 *   dataset: { splits: { eval: "tasks.jsonl" }, fields: { inputs: { text: "text" } } },
 * });
 * ```
 */
export function definePipeline<const T extends PipelineInput>(spec: T): T {
  return spec;
}
