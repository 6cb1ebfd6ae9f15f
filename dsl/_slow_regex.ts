/**
 * Where a regular expression repeats a group that itself repeats (star height above 1, e.g. `(a+)+$`,
 * `(\w*\s?)*`): the shape behind catastrophic backtracking, the check safe-regex makes. Escapes and
 * character classes are skipped; overlapping alternatives such as `(a|aa)*` are not detected.
 */
export function nestedQuantifier(pattern: string): number | undefined {
  // Per open group: where it opened and whether a quantifier occurs inside it.
  const groups: { start: number; quantified: boolean }[] = [];
  let closed: { start: number; quantified: boolean } | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      closed = undefined;
      continue;
    }
    if (c === "[") {
      for (i++; i < pattern.length && pattern[i] !== "]"; i++) {
        if (pattern[i] === "\\") i++;
      }
      closed = undefined;
      continue;
    }
    if (c === "(") {
      groups.push({ start: i, quantified: false });
      closed = undefined;
      continue;
    }
    if (c === ")") {
      closed = groups.pop();
      if (closed?.quantified && groups.length > 0) {
        groups.at(-1)!.quantified = true;
      }
      continue;
    }
    const unbounded = c === "*" || c === "+" ||
      (c === "{" && /^\{\d+,\d*\}/.test(pattern.slice(i, i + 24)) &&
        !/^\{(\d+),\1\}/.test(pattern.slice(i, i + 24)));
    if (unbounded) {
      if (closed?.quantified) return closed.start;
      if (groups.length > 0) groups.at(-1)!.quantified = true;
    }
    if (c !== "?") closed = undefined;
  }
  return undefined;
}
