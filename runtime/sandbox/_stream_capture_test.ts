import assert from "node:assert/strict";
import { HeadTailBuffer } from "./_stream_capture.ts";

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

Deno.test("HeadTailBuffer keeps everything under the cap", () => {
  const b = new HeadTailBuffer(10);
  b.push(bytes("abc"));
  b.push(bytes("defg"));
  assert.deepEqual(b.capture(), {
    text: "abcdefg",
    total_bytes: 7,
    truncated: false,
  });
});

Deno.test("HeadTailBuffer keeps head and tail with the omitted count, for any chunking", () => {
  const text = Array.from(
    { length: 1000 },
    (_, i) => String.fromCharCode(97 + (i % 26)),
  ).join("");
  for (const chunk of [1, 3, 7, 64, 499, 1000]) {
    for (const cap of [2, 9, 10, 100, 999, 1000, 5000]) {
      const b = new HeadTailBuffer(cap);
      for (let i = 0; i < text.length; i += chunk) {
        b.push(bytes(text.slice(i, i + chunk)));
      }
      const head = Math.ceil(cap / 2);
      const tail = cap - head;
      const got = b.capture();
      assert.equal(got.total_bytes, 1000);
      if (cap >= 1000) {
        assert.deepEqual(got, { text, total_bytes: 1000, truncated: false });
      } else {
        assert.equal(
          got.text,
          `${text.slice(0, head)}\n[... ${1000 - cap} bytes omitted ...]\n${
            tail === 0 ? "" : text.slice(-tail)
          }`,
          `chunk ${chunk} cap ${cap}`,
        );
        assert.equal(got.truncated, true);
      }
    }
  }
});

Deno.test("HeadTailBuffer finds needles anywhere, even split across chunks and omitted", () => {
  const b = new HeadTailBuffer(8, ["MemoryError", "heap limit"]);
  b.push(bytes("x".repeat(100) + "Memor"));
  b.push(bytes("yError" + "x".repeat(100)));
  assert.deepEqual([...b.found], ["MemoryError"]);
  assert(!b.capture().text.includes("MemoryError"));
});

Deno.test("HeadTailBuffer decodes invalid UTF-8 with replacement characters", () => {
  const b = new HeadTailBuffer(100);
  b.push(new Uint8Array([0xff, 0x41]));
  assert.equal(b.capture().text, "\ufffdA");
});
