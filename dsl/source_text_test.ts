import assert from "node:assert/strict";
import { SourceText } from "./source_text.ts";

const TEXT = "version: 1\nname: x\r\nroles:\n  - id: a";

Deno.test("SourceText positionAt() gives 1-based lines and columns", () => {
  const s = new SourceText("p.yaml", TEXT);
  assert.deepEqual(s.positionAt(0), { line: 1, column: 1, offset: 0 });
  assert.deepEqual(s.positionAt(9), { line: 1, column: 10, offset: 9 });
  // The newline belongs to the line it ends.
  assert.deepEqual(s.positionAt(10), { line: 1, column: 11, offset: 10 });
  assert.deepEqual(s.positionAt(11), { line: 2, column: 1, offset: 11 });
  assert.deepEqual(s.positionAt(TEXT.length), {
    line: 4,
    column: 10,
    offset: TEXT.length,
  });
});

Deno.test("SourceText positionAt() clamps offsets into the text", () => {
  const s = new SourceText("p.yaml", TEXT);
  assert.deepEqual(s.positionAt(-5), s.positionAt(0));
  assert.deepEqual(s.positionAt(1e9), s.positionAt(TEXT.length));
  assert.deepEqual(s.positionAt(3.7), s.positionAt(3));
});

Deno.test("SourceText positionOf() inverts positionAt() and clamps to the line", () => {
  const s = new SourceText("p.yaml", TEXT);
  for (let o = 0; o <= TEXT.length; o++) {
    const p = s.positionAt(o);
    assert.equal(s.positionOf(p.line, p.column).offset, o);
  }
  assert.deepEqual(s.positionOf(2, 99), s.positionAt(19)); // the "\n" ending line 2
  assert.deepEqual(s.positionOf(0, 0), s.positionAt(0));
  assert.deepEqual(s.positionOf(99, 1), s.positionAt(TEXT.indexOf("  - id")));
});

Deno.test("SourceText lineText() drops the line ending, including \\r", () => {
  const s = new SourceText("p.yaml", TEXT);
  assert.equal(s.lineCount, 4);
  assert.equal(s.lineText(1), "version: 1");
  assert.equal(s.lineText(2), "name: x");
  assert.equal(s.lineText(4), "  - id: a");
  assert.equal(s.lineText(0), "");
  assert.equal(s.lineText(5), "");
});

Deno.test("SourceText counts a final empty line after a trailing newline", () => {
  assert.equal(new SourceText("a", "").lineCount, 1);
  assert.equal(new SourceText("a", "x").lineCount, 1);
  assert.equal(new SourceText("a", "x\n").lineCount, 2);
  assert.deepEqual(new SourceText("a", "x\n").positionAt(2), {
    line: 2,
    column: 1,
    offset: 2,
  });
});
