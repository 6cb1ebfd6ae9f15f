import type { PipelineInput } from "./schema.ts";

export type {
  GraderFunction,
  GraderFunctionInput,
  GraderFunctionResult,
} from "./grader_function.ts";

/** A `file://` include: a YAML/JSON file, or a text file for templates, relative to the spec. */
export type FileRef = `file://${string}`;

/** A value as authored: any mapping below the root may instead be a `file://` include. */
export type Includable<T> = T extends readonly (infer U)[]
  ? readonly Includable<U>[]
  : T extends Record<string, unknown>
    ? { [K in keyof T]: Includable<T[K]> } | FileRef
  : T;

/** A pipeline spec as authored in TypeScript: the zod input type, with `file://` includes allowed. */
export type PipelineAuthoring = {
  [K in keyof PipelineInput]: Includable<PipelineInput[K]>;
};

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
export function definePipeline<const T extends PipelineAuthoring>(spec: T): T {
  return spec;
}
