import { dirname, isAbsolute, join, normalize } from "node:path";
import type { RuleContext } from "../rule_context.ts";

/**
 * Local dataset split files exist (a warning: they may be built later, e.g. by dsbench:build).
 * See README.md#dataset.
 */
export function datasetFiles(ctx: RuleContext): void {
  for (const [name, split] of Object.entries(ctx.spec.dataset.splits)) {
    const raw = typeof split === "string" ? split : split.path;
    if (/^https?:\/\//.test(raw)) continue;
    const path = typeof split === "string"
      ? ["dataset", "splits", name]
      : ["dataset", "splits", name, "path"];
    const file = isAbsolute(raw)
      ? raw
      : normalize(join(dirname(ctx.locate(path).file), raw));
    if (ctx.fileExists(file)) continue;
    ctx.report({
      code: "missing_dataset_file",
      severity: "warning",
      path,
      message:
        `Cannot find the file "${file}" of split "${name}": it does not exist yet`,
      hint:
        "paths are relative to the spec file; build or download the data before running",
    });
  }
}
