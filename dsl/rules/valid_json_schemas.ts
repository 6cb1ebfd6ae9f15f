import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv } from "ajv";
import { dirname, isAbsolute, join, normalize } from "node:path";
import type { RuleContext } from "../rule_context.ts";

/** An error's message without its closing period, to end a diagnostic's sentence. */
function errorText(e: unknown): string {
  return e instanceof Error ? e.message.replace(/\.$/, "") : String(e);
}

function compileSchema(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    return "a JSON Schema is an object";
  }
  const declared = (schema as { $schema?: unknown }).$schema;
  const draft7 = typeof declared === "string" && /draft-0[67]/.test(declared);
  try {
    (draft7
      ? new Ajv({ strict: false, allErrors: true })
      : new Ajv2020({ strict: false, allErrors: true })).compile(
        schema,
      );
    return undefined;
  } catch (e) {
    return errorText(e);
  }
}

/** A compiled schema, or why there is none (a diagnostic's message and hint). */
type SchemaOrProblem =
  | { readonly schema: unknown }
  | { readonly message: string; readonly hint: string };

/**
 * A produced file's JSON Schema (inline, or read from the file it names, relative to the spec at `path`),
 * compiled; or why it cannot be used, as a diagnostic's message and hint.
 */
function resolveSchema(
  ctx: RuleContext,
  path: readonly (string | number)[],
  produced: { readonly path: string; readonly schema?: unknown },
): SchemaOrProblem {
  let schema = produced.schema;
  if (typeof schema === "string") {
    const written = schema.replace(/^file:\/\//, "");
    const file = isAbsolute(written)
      ? written
      : normalize(join(dirname(ctx.locate(path).file), written));
    try {
      schema = JSON.parse(ctx.readFile(file));
    } catch (e) {
      return {
        message: `Cannot load JSON Schema "${file}" for "${produced.path}": ${
          errorText(e)
        }`,
        hint:
          "the path is relative to the spec file that names it, and the file must hold JSON",
      };
    }
  }
  const problem = compileSchema(schema);
  return problem === undefined ? { schema } : {
    message:
      `Cannot compile the JSON Schema for "${produced.path}": ${problem}`,
    hint:
      "check it against https://json-schema.org/draft/2020-12 (or declare $schema for draft-07)",
  };
}

/**
 * The JSON Schema of each JSON artifact in `produces` (inline, or a file relative to the spec that names it)
 * is readable and compiles with ajv; the resolved schema is kept for the graph. See README.md#file-contracts.
 */
export function validJsonSchemas(ctx: RuleContext): void {
  ctx.spec.roles.forEach((role, i) => {
    role.produces.forEach((p, j) => {
      if (typeof p === "string" || p.schema === undefined) return;
      const path = ["roles", i, "produces", j, "schema"];
      const resolved = resolveSchema(ctx, path, p);
      if ("schema" in resolved) {
        ctx.artifactSchemas.set(`${role.id}:${j}`, resolved.schema);
      } else {
        ctx.report({ code: "invalid_json_schema", path, ...resolved });
      }
    });
  });
}
