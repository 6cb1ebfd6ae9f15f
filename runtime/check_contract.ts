import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv } from "ajv";
import { globMatch as matches, type GraphRole } from "../dsl/mod.ts";
import type { Contract } from "./events.ts";
import { readWorkspaceFile } from "./workspace/read_workspace_file.ts";

/** Agent output is untrusted: JSON artifacts above this size are reported invalid, not parsed. */
const MAX_JSON_BYTES = 16 << 20;

// deno-lint-ignore no-explicit-any
const validators = new WeakMap<object, any>();
function validatorFor(schema: object) {
  let v = validators.get(schema);
  if (!v) {
    const declared = (schema as { $schema?: unknown }).$schema;
    const ajv = typeof declared === "string" && /draft-0[67]/.test(declared)
      ? new Ajv({ strict: false, allErrors: true })
      : new Ajv2020({ strict: false, allErrors: true });
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/** Consumed files (globs allowed) that no regular file of the workspace matches. */
export function missingInputs(
  role: GraphRole,
  files: readonly string[],
): string[] {
  return role.consumes.filter((c) => !files.some((f) => matches(c, f)));
}

/**
 * Checks a role's file contract against the workspace's regular files: required files present, JSON
 * artifacts valid against their schema (ajv). `missingAtStart` is what was missing when the action began.
 * Files are read with `readWorkspaceFile` (no link followed, no FIFO opened, at most 16 MiB); call it
 * while holding the workspace (`WorkspaceTracker.exclusive`) so no execution changes them meanwhile.
 */
export async function checkContract(
  role: GraphRole,
  workspace: string,
  files: readonly string[],
  missingAtStart: readonly string[],
): Promise<Contract> {
  const missing_required = role.produces.filter((p) =>
    p.required && !files.some((f) => matches(p.path, f))
  ).map((
    p,
  ) => p.path);
  const invalid: Contract["invalid"] = [];
  for (const p of role.produces) {
    if (
      p.schema === undefined || p.schema === null ||
      typeof p.schema !== "object"
    ) continue;
    for (const f of files.filter((x) => matches(p.path, x))) {
      const problems = await validateJsonFile(
        workspace,
        f,
        p.schema as object,
      );
      if (problems.length > 0) invalid.push({ path: f, problems });
    }
  }
  return { missing_required, missing_inputs: [...missingAtStart], invalid };
}

async function validateJsonFile(
  workspace: string,
  path: string,
  schema: object,
): Promise<string[]> {
  // Never a symlink, FIFO or device, and at most the cap, whatever a concurrent jail does meanwhile.
  const read = await readWorkspaceFile(workspace, path, {
    maxBytes: MAX_JSON_BYTES,
  });
  if (!read.ok) {
    return [
      read.reason.startsWith("larger than") ||
        read.reason === "not a regular file"
        ? read.reason
        : `unreadable: ${read.reason}`,
    ];
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(read.bytes));
  } catch (e) {
    return [`not JSON: ${e instanceof Error ? e.message : e}`];
  }
  const validate = validatorFor(schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 5).map((
    e: { instancePath: string; message?: string },
  ) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`);
}
