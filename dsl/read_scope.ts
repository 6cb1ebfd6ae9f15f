import { dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";

/**
 * Where a spec may read files: its root folder (the entry spec's folder, or an unpacked bundle) plus the
 * paths the user allowed (`--allow-read`), all with symlinks resolved. DESIGN.md decision 12.
 */
export interface ReadScope {
  /** The spec's root folder, as given (for messages). */
  readonly root: string;
  /** The root and every allowed path, symlinks resolved. */
  readonly roots: readonly string[];
}

/**
 * Pseudo-file trees never read from a spec, even under `--allow-read /`: their files are process state
 * (`/proc/self/environ` holds the API keys), devices that never end (`/dev/zero`) or block (`/dev/stdin`),
 * and kernel knobs. No spec needs them, so no flag opens them.
 */
const NEVER = ["/proc", "/sys", "/dev"];

/** The path with symlinks resolved, as far as it exists (the missing rest appended as written). */
export function realPath(path: string): string {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let at = abs;;) {
    try {
      const real = Deno.realPathSync(at);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return abs;
      missing.push(at.slice(up.length).replace(/^[\\/]+/, ""));
      at = up;
    }
  }
}

function within(path: string, root: string): boolean {
  return path === root ||
    path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The scope of a spec whose root folder is `root`, widened by `allow` (paths, relative to the working
 * directory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outsideScope, readScope } from "./read_scope.ts";
 * const scope = readScope("pipelines");
 * assert.equal(outsideScope("pipelines/math.yaml", scope), undefined);
 * assert.match(outsideScope("/etc/passwd", scope)!, /outside/);
 * ```
 */
export function readScope(
  root: string,
  allow: readonly string[] = [],
): ReadScope {
  return { root: normalize(root), roots: [root, ...allow].map(realPath) };
}

/**
 * Why `path` may not be read in `scope` (one clause, e.g. `it is outside the spec's folder "/x"`), or
 * undefined when it may. Symlinks are resolved first: a link inside the root pointing out is outside.
 */
export function outsideScope(
  path: string,
  scope: ReadScope,
): string | undefined {
  const real = realPath(isAbsolute(path) ? path : resolve(path));
  const via = real === resolve(path) ? "" : ` (it resolves to "${real}")`;
  const pseudo = NEVER.find((p) => within(real, p));
  if (pseudo !== undefined) {
    return `it is under ${pseudo}, which a spec never reads, whatever --allow-read says${via}`;
  }
  if (scope.roots.some((r) => within(real, r))) return undefined;
  return `it is outside the spec's folder "${scope.root}"${via}`;
}

/**
 * The scope made of every root of `scopes` (the entry's, the allowed paths, fetched bundles'): what the
 * runtime may read for a compiled spec, e.g. a dataset row's input file. The first scope names the root.
 */
export function unionScope(scopes: Iterable<ReadScope>): ReadScope {
  const all = [...scopes];
  const roots = [...new Set(all.flatMap((s) => s.roots))];
  return { root: all[0]?.root ?? ".", roots };
}

/** The hint for a path `outsideScope` refused for reason `why`. */
export function outsideHint(why: string): string {
  return why.includes("never reads")
    ? "copy what the spec needs into its folder"
    : "copy it into the spec's folder, or name it with --allow-read <path> to let this spec read it";
}
