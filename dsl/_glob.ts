// @ts-types="@types/picomatch"
import picomatch from "picomatch";

const cache = new Map<string, (path: string) => boolean>();

/** True when the path contains glob syntax. */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

/** Whether `path` matches `pattern` (a literal path matches only itself). */
export function globMatch(pattern: string, path: string): boolean {
  let m = cache.get(pattern);
  if (!m) {
    m = picomatch(pattern, { dot: true });
    cache.set(pattern, m);
  }
  return m(path);
}

/**
 * Whether some file could match both patterns: exact for literals, approximate for two globs
 * (each glob's literal-ised form is tried against the other).
 */
export function globsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = isGlob(a), gb = isGlob(b);
  if (!ga && !gb) return false;
  if (!ga) return globMatch(b, a);
  if (!gb) return globMatch(a, b);
  const sample = (g: string) =>
    g.replace(/\*\*\/?/g, "").replace(/\*/g, "x").replace(/\?/g, "x").replace(
      /\{([^,}]*)[^}]*\}/g,
      "$1",
    );
  return globMatch(a, sample(b)) || globMatch(b, sample(a));
}
