import { dirname, isAbsolute, join, normalize } from "node:path";
import type { RuleContext } from "../rule_context.ts";

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The demo policy's script file exists: `run` falls back to it when a model has no endpoint. See README.md#demo-policy. */
export function demoScript(ctx: RuleContext): void {
  const demo = ctx.spec.demo;
  if (demo === undefined) return;
  const file = isAbsolute(demo)
    ? demo
    : normalize(join(dirname(ctx.locate(["demo"]).file), demo));
  if (isDirectory(file)) {
    ctx.report({
      code: "file_is_directory",
      path: ["demo"],
      message: `Cannot use the demo policy "${file}": it is a directory`,
      hint: "name the script file inside it, e.g. demo/relay.yaml",
    });
    return;
  }
  if (ctx.fileExists(file)) return;
  ctx.report({
    code: "file_not_found",
    path: ["demo"],
    message: `Cannot find the demo policy "${file}": no such file`,
    hint:
      "the path is relative to the spec file; write it without file:// (the script is read at run time)",
  });
}
