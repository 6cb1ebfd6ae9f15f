// The spec argument of check, graph, run, train and bundle: a path, a local bundle, or a URL, pinned or
// not (README.md "Sharing specs"). The commands print; this file only resolves, compiles and bundles.
import { compileFile, compileModule, type CompileResult } from "../dsl/mod.ts";
import { BundleError } from "../dsl/mod.ts";
import { type MadeBundle, makeBundle } from "../runtime/mod.ts";
import { resolveSpecSource, SpecSourceError } from "../runtime/mod.ts";

/** Options for `compileSpecArg` and `bundleSpecArg`. */
export interface SpecArgOptions {
  /** `--allow-read` paths (refused with a URL spec). */
  allowRead?: readonly string[];
  /** Receives warning lines, e.g. an unpinned URL with the pin to write. */
  warn: (line: string) => void;
}

/** Why a spec argument cannot be used (fetch, pin, bundle): one line; the CLI exits 2. */
export class SpecArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpecArgError";
  }
}

async function rethrown<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SpecSourceError || e instanceof BundleError) {
      throw new SpecArgError(e.message);
    }
    throw e;
  }
}

/**
 * Resolves a spec argument (path, local bundle, https URL, each optionally `#sha256=` pinned) and
 * compiles it confined to its folder (a fetched spec to its bundle), with `--allow-read` for a local one.
 */
export function compileSpecArg(
  arg: string,
  options: SpecArgOptions,
): Promise<CompileResult> {
  return rethrown(async () => {
    const source = await resolveSpecSource(arg, {
      allowRead: options.allowRead ?? [],
      warn: options.warn,
    });
    const compileOptions = {
      allowRead: source.allowRead,
      fetched: source.fetched,
    };
    const result = /\.(ts|mts|js|mjs)$/.test(source.file)
      ? await compileModule(source.file, compileOptions)
      : compileFile(source.file, compileOptions);
    if (source.remote && result.ok) {
      // A spec from a URL takes its data from its bundle or over https, never plain http.
      for (const [name, split] of Object.entries(result.graph.dataset.splits)) {
        if (split.is_url && !/^https:\/\//i.test(split.source)) {
          throw new SpecArgError(
            `Cannot use the spec "${arg}": its split "${name}" is fetched from "${split.source}", not over https; a spec from a URL takes its data from its bundle or an https URL`,
          );
        }
      }
    }
    return result;
  });
}

/** Bundles a local spec (`deno task bundle`); its extends URLs are fetched, and stay URLs in it. */
export function bundleSpecArg(
  arg: string,
  options: SpecArgOptions & { noData?: boolean },
): Promise<MadeBundle> {
  return rethrown(async () => {
    const source = await resolveSpecSource(arg, {
      warn: options.warn,
      allowRead: options.allowRead ?? [],
    });
    return await makeBundle(source.file, {
      fetched: source.fetched,
      ...(options.allowRead ? { allowRead: options.allowRead } : {}),
      ...(options.noData ? { noData: true } : {}),
    });
  });
}
