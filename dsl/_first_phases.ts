import type { Diagnostic } from "./diagnostic.ts";
import { type EnvLookup, interpolate } from "./interpolate.ts";
import type { LoadedSpec } from "./load_spec.ts";
import { reservedKeys } from "./reserved_keys.ts";
import type { SpecNode } from "./source_tree.ts";

/** `${env.NAME}` from the process environment; undefined when unset or when reading it is not allowed. */
export function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The phases every loaded file goes through before its shape is checked, a spec (compile.ts) or a rubric
 * file (rubric_file.ts): load problems, then `${env.X}` interpolation, then reserved keys. Each stops at
 * the first with errors: the root when all pass, else that phase's diagnostics.
 */
export function firstPhases(
  loaded: LoadedSpec,
  env: EnvLookup = processEnv,
): { readonly root: SpecNode } | { readonly diagnostics: Diagnostic[] } {
  const errorsIn = (ds: readonly Diagnostic[]) =>
    ds.some((d) => d.severity === "error");
  if (errorsIn(loaded.diagnostics) || loaded.root === undefined) {
    return { diagnostics: loaded.diagnostics };
  }
  const interpolation = interpolate(loaded.root, env);
  if (errorsIn(interpolation)) return { diagnostics: interpolation };
  const reserved = reservedKeys(loaded.root);
  if (reserved.length > 0) return { diagnostics: reserved };
  return { root: loaded.root };
}
