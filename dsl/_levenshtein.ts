/** Edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Names longer than this get no suggestion: ids are at most 128 characters, and the check is O(n·k). */
const MAX_NAME = 256;

/** Edit distance when it is at most `max`, else `max + 1`: only a band of width 2·max+1 is computed. */
export function boundedLevenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  const far = max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => Math.min(j, far));
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(far);
    cur[0] = Math.min(i, far);
    let best = cur[0];
    const from = Math.max(1, i - max), to = Math.min(b.length, i + max);
    for (let j = from; j <= to; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        far,
      );
      if (cur[j]! < best) best = cur[j]!;
    }
    if (best >= far) return far;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a third of the name's length (at least 1, at most 3 edits), if any. */
export function closest(
  name: string,
  candidates: Iterable<string>,
): string | undefined {
  if (name.length > MAX_NAME) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue;
    const d = boundedLevenshtein(lower, c.toLowerCase(), limit);
    if (
      d < bestDistance || (d === bestDistance && best !== undefined && c < best)
    ) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `did you mean "x"?` for the closest candidate, or a list of the valid ones when few. */
export function didYouMean(
  name: string,
  candidates: readonly string[],
  noun = "value",
): string | undefined {
  const c = closest(name, candidates);
  if (c !== undefined) return `did you mean "${c}"?`;
  if (candidates.length === 0) return undefined;
  if (candidates.length <= 8) {
    return `valid ${noun}s: ${candidates.map((x) => `"${x}"`).join(", ")}`;
  }
  return undefined;
}
