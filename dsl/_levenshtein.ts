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
/** Cells of edit-distance tables one suggestion may fill: a spec with 1,000 unknown references among
 * 1,000 long ids would otherwise spend 30 s on hints that the 100-diagnostic cap mostly hides. */
const MAX_CELLS = 50_000;

/** Edit distance when it is at most `max`, else `max + 1`: only a band of width 2·max+1 is computed. */
export function boundedLevenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  const far = max + 1, m = b.length;
  let prev = new Int32Array(m + 1), cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = Math.min(j, far);
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max), to = Math.min(m, i + max);
    cur[from - 1] = from === 1 ? Math.min(i, far) : far;
    let best = cur[from - 1]!;
    for (let j = from; j <= to; j++) {
      // prev holds row i - 1 only within its band, up to column i - 1 + max.
      const up = j <= i - 1 + max ? prev[j]! : far;
      const d = Math.min(
        up + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        far,
      );
      cur[j] = d;
      if (d < best) best = d;
    }
    if (best >= far) return far;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[m]!, far);
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
  let cells = 0;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue;
    cells += Math.min(c.length, name.length) * (2 * limit + 1);
    if (cells > MAX_CELLS) break;
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
