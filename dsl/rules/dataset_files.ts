import { dirname, isAbsolute, join, normalize } from "node:path";
import { outsideHint, outsideScope } from "../read_scope.ts";
import type { RuleContext } from "../rule_context.ts";

type Path = (string | number)[];

/** The written path resolved against the file it is written in. */
function resolved(ctx: RuleContext, path: Path, raw: string): string {
  return isAbsolute(raw)
    ? raw
    : normalize(join(dirname(ctx.locate(path).file), raw));
}

/** Reports `file` (named at `path`) when it lies outside its spec file's read scope; true if it does. */
function outside(
  ctx: RuleContext,
  path: Path,
  file: string,
  what: string,
): boolean {
  const scope = ctx.readScopeOf(ctx.locate(path).file);
  const why = scope && outsideScope(file, scope);
  if (!why) return false;
  ctx.report({
    code: "include_outside_folder",
    path,
    message: `Cannot read ${what} "${file}": ${why}`,
    hint: outsideHint(why),
  });
  return true;
}

/**
 * Local dataset split files exist (a warning: they may be built later, e.g. by dsbench:build), and every
 * local file the spec names for the runtime to read (splits, per-task input files up to their first
 * `{{`, the demo policy, scripted models' scripts) stays inside the spec's folder unless allowed
 * (DESIGN.md decision 12). See README.md#dataset and README.md#sharing-specs.
 */
export function datasetFiles(ctx: RuleContext): void {
  for (const [name, split] of Object.entries(ctx.spec.dataset.splits)) {
    const raw = typeof split === "string" ? split : split.path;
    if (/^https?:\/\//.test(raw)) continue;
    const path = typeof split === "string"
      ? ["dataset", "splits", name]
      : ["dataset", "splits", name, "path"];
    const file = resolved(ctx, path, raw);
    if (outside(ctx, path, file, `the file of split "${name}"`)) continue;
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
  ctx.spec.dataset.files.forEach((f, i) => {
    if (!("path" in f)) return; // a row's path: the runtime checks it when it loads the tasks
    // The fixed part before the first template tag bounds where every rendered path can lead.
    const fixed = f.path.split("{{")[0]!;
    const path = ["dataset", "files", i, "path"];
    const file = resolved(ctx, path, fixed === "" ? "." : fixed);
    outside(ctx, path, file, `the task input file`);
  });
  if (ctx.spec.demo !== undefined) {
    outside(
      ctx,
      ["demo"],
      resolved(ctx, ["demo"], ctx.spec.demo),
      "the demo policy",
    );
  }
  for (const [name, model] of Object.entries(ctx.spec.models)) {
    if (model.script === undefined) continue;
    const path = ["models", name, "script"];
    outside(ctx, path, resolved(ctx, path, model.script), "the model script");
  }
}
