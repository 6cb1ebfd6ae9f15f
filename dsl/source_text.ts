import type { SourcePosition } from "./diagnostic.ts";

/** A source file's text with a line index, converting offsets to line/column and back. */
export class SourceText {
  readonly file: string;
  readonly text: string;
  readonly #lineStarts: number[];

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.#lineStarts = starts;
  }

  /** Number of lines, counting a final line without a newline. */
  get lineCount(): number {
    return this.#lineStarts.length;
  }

  /** Position of an offset, clamped into the text. */
  positionAt(offset: number): SourcePosition {
    const off = Math.max(0, Math.min(Math.trunc(offset), this.text.length));
    let lo = 0, hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return {
      line: lo + 1,
      column: off - this.#lineStarts[lo]! + 1,
      offset: off,
    };
  }

  /** Position of a 1-based line and column, clamped into the text. */
  positionOf(line: number, column: number): SourcePosition {
    const l = Math.max(1, Math.min(Math.trunc(line), this.#lineStarts.length));
    const start = this.#lineStarts[l - 1]!;
    const lineEnd = l < this.#lineStarts.length
      ? this.#lineStarts[l]! - 1
      : this.text.length;
    return this.positionAt(
      Math.min(start + Math.max(0, Math.trunc(column) - 1), lineEnd),
    );
  }

  /** The text of a 1-based line without its newline. */
  lineText(line: number): string {
    if (line < 1 || line > this.#lineStarts.length) return "";
    const start = this.#lineStarts[line - 1]!;
    const end = line < this.#lineStarts.length
      ? this.#lineStarts[line]! - 1
      : this.text.length;
    return this.text.slice(start, end).replace(/\r$/, "");
  }
}
