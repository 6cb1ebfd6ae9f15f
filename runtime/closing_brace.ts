/**
 * Index just past the brace that closes a group whose text starts at `start` (just after its `{`), with nested
 * braces matched and `\{`, `\}` skipped as escaped; -1 when the group never closes.
 */
export function closingBrace(text: string, start: number): number {
  let depth = 1;
  let i = start;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === "\\" && i + 1 < text.length) {
      i++;
      continue;
    }
    if (text[i] === "{") depth++;
    else if (text[i] === "}") depth--;
  }
  return depth === 0 ? i : -1;
}
