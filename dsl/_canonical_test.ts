import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, sha256 } from "./_canonical.ts";

Deno.test("canonicalJson() sorts object keys at every level and keeps array order", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  assert.equal(canonicalJson([2, 1]), "[2,1]");
  assert.equal(canonicalJson("x"), '"x"');
});

Deno.test("canonicalJson() gives equal text for equal data in any key order", () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
      const reversed = JSON.parse(
        JSON.stringify(value),
        (_k, v) =>
          v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
      );
      assert.equal(canonicalJson(reversed), canonicalJson(value));
      assert.deepEqual(
        JSON.parse(canonicalJson(value)),
        JSON.parse(JSON.stringify(value)),
      );
    }),
    { numRuns: 200 },
  );
});

Deno.test("canonicalJson() drops undefined fields like JSON.stringify", () => {
  assert.equal(canonicalJson({ b: undefined, a: 1 }), '{"a":1}');
});

Deno.test("sha256() gives the standard hex digest", () => {
  assert.equal(
    sha256(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    sha256("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(sha256("é").length, 64);
});
