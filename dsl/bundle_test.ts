// The bundle format on its own: what survives a round trip, and every way a bundle is refused.
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import {
  BUNDLE_LIMITS,
  BundleError,
  decodeBundle,
  encodeBundle,
  isBundleText,
} from "./bundle.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function sample(): Map<string, Uint8Array> {
  return new Map([
    ["spec.yaml", enc("name: x\nextends: base.yaml\n")],
    ["base.yaml", enc("version: 1\n")],
    // Text YAML would not keep byte for byte: trailing spaces, CRLF, a BOM, no final newline.
    ["prompts/p.md", enc("line  \r\nlast line without newline   ")],
    ["prompts/bom.md", enc("\ufeffhello\n\n\n")],
    ["data/blob.bin", Uint8Array.from({ length: 256 }, (_, i) => i)],
    ["data/tasks.jsonl", enc('{"q": "1 + 1"}\n{"q": "#sha256"}\n')],
  ]);
}

function refused(text: string, pattern: RegExp): void {
  assert.throws(
    () => decodeBundle(text),
    (e) => e instanceof BundleError && pattern.test(e.message),
  );
}

/** The bundle as data, changed by `edit`, written back (the hashes are not recomputed). */
function edited(edit: (doc: Record<string, unknown>) => void): string {
  const doc = parse(encodeBundle("spec.yaml", sample()));
  edit(doc);
  return stringify(doc);
}

Deno.test("a bundle keeps every file byte for byte, text as text and binary as base64", () => {
  const files = sample();
  const text = encodeBundle("spec.yaml", files);
  assert.ok(isBundleText(text));
  assert.ok(!isBundleText("version: 1\nname: mappa_bundle\n"));
  const back = decodeBundle(text);
  assert.equal(back.entry, "spec.yaml");
  assert.deepEqual([...back.files.keys()].sort(), [...files.keys()].sort());
  for (const [path, bytes] of files) {
    assert.deepEqual(back.files.get(path), bytes, path);
  }
  const doc = parse(text);
  assert.equal(typeof doc.files["spec.yaml"].text, "string");
  assert.equal(typeof doc.files["data/blob.bin"].base64, "string");
  // The same files give the same bundle hash, whatever their order.
  const reversed = new Map([...files].reverse());
  assert.equal(
    decodeBundle(encodeBundle("spec.yaml", reversed)).sha256,
    back.sha256,
  );
});

Deno.test("a bundle whose file or hash was altered is refused, naming both hashes", () => {
  refused(
    edited((d) => {
      (d.files as Record<string, { text: string }>)["base.yaml"]!.text =
        "version: 2\n";
    }),
    /bundle file "base\.yaml": its sha256 is [0-9a-f]{64}, the bundle says [0-9a-f]{64}; the bundle was altered/,
  );
  // A file and its own hash changed together: the bundle's hash no longer matches.
  const altered = enc("version: 2\n");
  const files = sample();
  files.set("base.yaml", altered);
  const other = parse(encodeBundle("spec.yaml", files));
  refused(
    edited((d) => {
      (d.files as Record<string, unknown>)["base.yaml"] =
        other.files["base.yaml"];
    }),
    /its files hash to [0-9a-f]{64}, the bundle says [0-9a-f]{64}/,
  );
  refused(
    edited((d) => (d.entry = "other.yaml")),
    /hash to|entry "other\.yaml" is not among its files/,
  );
});

Deno.test("bundle paths that leave the folder, repeat or collide are refused", () => {
  for (
    const [path, why] of [
      ["../secret.md", /an empty, "\." or "\.\." part/],
      ["prompts/../../x", /an empty, "\." or "\.\." part/],
      ["/etc/passwd", /absolute/],
      ["C:/x", /absolute/],
      ["a//b", /an empty, "\." or "\.\." part/],
      ["./a", /an empty, "\." or "\.\." part/],
      ["a\\..\\b", /backslash/],
      ["a\u0000b", /control/],
    ] as const
  ) {
    const files = new Map([["spec.yaml", enc("x: 1\n")], [path, enc("y")]]);
    assert.throws(() => encodeBundle("spec.yaml", files), why, path);
    refused(
      edited((d) => {
        (d.files as Record<string, unknown>)[path] = { sha256: "0", text: "y" };
      }),
      why,
    );
  }
  refused(
    edited((d) => {
      (d.files as Record<string, unknown>)["SPEC.yaml"] = {
        sha256: "0",
        text: "y",
      };
    }),
    /name the same file on a case-insensitive disk/,
  );
  refused(
    edited((d) => {
      (d.files as Record<string, unknown>)["base.yaml/x"] = {
        sha256: "0",
        text: "y",
      };
    }),
    /the first is a file and a folder of the second/,
  );
  // A YAML key written twice is a parse error, not a silent last-wins.
  const text = encodeBundle("spec.yaml", sample());
  refused(
    text.replace(
      "files:\n",
      'files:\n  base.yaml: { sha256: "0", text: "" }\n',
    ),
    /Cannot parse the bundle/,
  );
});

Deno.test("bundles too large, too many or built with aliases are refused before anything is used", () => {
  const many = new Map([["spec.yaml", enc("x: 1\n")]]);
  for (let i = 0; i < BUNDLE_LIMITS.files; i++) many.set(`f/${i}`, enc(""));
  assert.throws(
    () => encodeBundle("spec.yaml", many),
    /at most 4096; leave the data out \(--no-data\)/,
  );
  const big = new Map([
    ["spec.yaml", enc("x: 1\n")],
    ["data/big.bin", new Uint8Array(BUNDLE_LIMITS.bytes)],
    ["data/small.bin", new Uint8Array(10)],
  ]);
  assert.throws(
    () => encodeBundle("spec.yaml", big),
    /biggest file is "data\/big\.bin" \(67108864 bytes\)/,
  );
  refused(
    "mappa_bundle: 1\n" + " ".repeat(BUNDLE_LIMITS.textBytes),
    /Cannot read a bundle of/,
  );
  refused(
    "mappa_bundle: 1\nentry: a\nsha256: x\nfiles:\n  a: &f { sha256: x, text: y }\n  b: *f\n",
    /Cannot parse the bundle/,
  );
  refused(
    "mappa_bundle: 2\nentry: a\nsha256: x\nfiles: {}\n",
    /Cannot use the bundle: at mappa_bundle/,
  );
});
