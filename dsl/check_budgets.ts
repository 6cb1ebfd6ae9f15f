import { SPEC_BUDGETS } from "./budgets.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { isGlob } from "./glob.ts";
import type { Pipeline } from "./schema.ts";
import { nodeAt, type SpecNode } from "./source_tree.ts";

/**
 * Budgets that need the whole spec after its shape is valid, checked before the semantic rules: file
 * contracts compare every consumed pattern with every produced one, so the globs among them are counted.
 */
export function checkBudgets(spec: Pipeline, root: SpecNode): Diagnostic[] {
  let globs = 0;
  for (const [i, role] of spec.roles.entries()) {
    const paths: [(string | number)[], string][] = [
      ...role.produces.map((p, j): [(string | number)[], string] => [
        ["roles", i, "produces", j],
        typeof p === "string" ? p : p.path,
      ]),
      ...role.consumes.map((p, j): [(string | number)[], string] => [
        ["roles", i, "consumes", j],
        p,
      ]),
    ];
    for (const [path, pattern] of paths) {
      if (!isGlob(pattern) || ++globs <= SPEC_BUDGETS.globs) continue;
      const loc = nodeAt(root, path).node.loc;
      return [{
        code: "over_budget",
        severity: "error",
        message:
          `Cannot check the file contracts: the roles produce and consume more than ${SPEC_BUDGETS.globs} globs`,
        file: loc.file,
        ...(loc.start ? { position: loc.start } : {}),
        path,
        hint: "name files literally, or share one glob per folder",
      }];
    }
  }
  return [];
}
