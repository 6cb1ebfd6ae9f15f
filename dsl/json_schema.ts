import { z } from "zod";
import { PipelineSchema } from "./schema.ts";

/**
 * The JSON Schema of pipeline specs as authored (defaults optional), for editors' completion through
 * `# yaml-language-server: $schema=...`.
 *
 * @example
 * ```ts
 * import { pipelineJsonSchema } from "./json_schema.ts";
 * console.assert(pipelineJsonSchema().type === "object");
 * ```
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PipelineSchema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return {
    ...schema,
    title: "mappa pipeline spec",
    description:
      "A multi-agent pipeline: models, tools, roles, flow, dataset, coach, outcome and training.",
  };
}
