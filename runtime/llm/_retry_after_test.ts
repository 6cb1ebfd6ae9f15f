import assert from "node:assert/strict";
import { parseRetryAfter } from "./_retry_after.ts";

Deno.test("parseRetryAfter() reads retry-after-ms, seconds and HTTP dates", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  const read = (h: Record<string, string>) =>
    parseRetryAfter(new Headers(h), now);
  assert.equal(read({ "retry-after-ms": "250" }), 250);
  assert.equal(read({ "retry-after-ms": "250", "retry-after": "9" }), 250);
  assert.equal(read({ "retry-after": "2" }), 2000);
  assert.equal(read({ "retry-after": "0.2" }), 200);
  assert.equal(read({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), 3000);
  assert.equal(read({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), 0);
  assert.equal(read({ "retry-after": "soon" }), undefined);
  assert.equal(read({ "retry-after": "-1" }), undefined);
  assert.equal(read({ "retry-after-ms": "x" }), undefined);
  assert.equal(read({}), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});
