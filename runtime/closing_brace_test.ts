import assert from "node:assert/strict";
import { closingBrace } from "./closing_brace.ts";

Deno.test("closingBrace() finds the brace closing a group, skipping nested and escaped braces", () => {
  assert.equal(closingBrace("{a}", 1), 3);
  assert.equal(closingBrace("x{a{b}c}d", 2), 8);
  assert.equal(closingBrace("{a\\}b}", 1), 6);
  assert.equal(closingBrace("{a\\{b}", 1), 6);
  assert.equal(closingBrace("{a{b}", 1), -1);
  assert.equal(closingBrace("{", 1), -1);
  assert.equal(closingBrace("{a\\", 1), -1);
});
