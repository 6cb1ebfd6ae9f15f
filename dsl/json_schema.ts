import { z } from "zod";
import { PipelineSchema, RubricSchema } from "./schema.ts";

const FILE_REF = {
  type: "string",
  pattern: "^file://",
  description:
    "Include a YAML/JSON file (relative to this file) in place of the value",
};

/** Lets every mapping below the root be a `file://` include, as the loader allows. */
function allowIncludes(node: unknown, isRoot = false): unknown {
  if (Array.isArray(node)) return node.map((n) => allowIncludes(n));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "properties" || k === "$defs"
      ? Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map((
          [pk, pv],
        ) => [pk, allowIncludes(pv)]),
      )
      : allowIncludes(v);
  }
  return !isRoot && out.type === "object" ? { anyOf: [out, FILE_REF] } : out;
}

/**
 * The JSON Schema of pipeline specs as authored (defaults optional), for editors' completion through
 * `# yaml-language-server: $schema=...`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pipelineJsonSchema } from "./json_schema.ts";
 * assert(pipelineJsonSchema().type === "object");
 * ```
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = allowIncludes(
    z.toJSONSchema(PipelineSchema, { io: "input", unrepresentable: "any" }),
    true,
  ) as Record<string, unknown>;
  return {
    ...schema,
    title: "mappa pipeline spec",
    description:
      "A multi-agent pipeline: models, tools, roles, flow, dataset, coach, outcome and training.",
  };
}

/**
 * The JSON Schema of rubric files (`coach.rubric: file://rubrics/x.yaml`), for editors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rubricJsonSchema } from "./json_schema.ts";
 * assert(rubricJsonSchema().type === "object");
 * ```
 */
export function rubricJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RubricSchema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return {
    ...schema,
    title: "mappa rubric",
    description:
      "A versioned judge rubric: Liquid template, scale, deterministic checks and metric caps.",
  };
}

/** The schema files `deno task schema` writes, by file name. */
export function schemaFiles(): Record<string, string> {
  return {
    "pipeline.schema.json": JSON.stringify(pipelineJsonSchema(), null, 2) +
      "\n",
    "rubric.schema.json": JSON.stringify(rubricJsonSchema(), null, 2) + "\n",
  };
}
