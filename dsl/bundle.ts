import { createHash } from "node:crypto";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { canonicalJson } from "./_canonical.ts";

/** Limits on a bundle read from anywhere: file count, total decoded bytes, bundle text size. */
export const BUNDLE_LIMITS = {
  files: 4096,
  bytes: 64 * 1024 * 1024,
  /** The bundle's own text: base64 takes 4 bytes for 3, plus YAML around it. */
  textBytes: 96 * 1024 * 1024,
  pathChars: 1024,
} as const;

/** A decoded bundle: the entry spec's path and every file, by path relative to the spec's root folder. */
export interface Bundle {
  readonly entry: string;
  /** The bundle's content hash: sha256 of the canonical JSON of `{entry, files: {path: sha256}}`. */
  readonly sha256: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** Thrown for a bundle that cannot be made or used; the message is one line saying what and how to fix. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

const FileSchema = z.union([
  z.strictObject({ sha256: z.string(), text: z.string() }),
  z.strictObject({ sha256: z.string(), base64: z.string() }),
]);

/** The bundle document: a YAML mapping, readable and diffable, with its files inside. */
export const BundleSchema = z.strictObject({
  mappa_bundle: z.literal(1),
  entry: z.string(),
  sha256: z.string(),
  files: z.record(z.string(), FileSchema),
});

/** Hex sha256 of bytes (or of a string's UTF-8). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The content hash of a bundle of these files (see `Bundle.sha256`). */
function bundleHash(
  entry: string,
  hashes: ReadonlyMap<string, string>,
): string {
  const files = Object.fromEntries(
    [...hashes].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
  return sha256Hex(canonicalJson({ entry, files }));
}

/**
 * Why a path may not name a file in a bundle, or undefined: it must be relative, `/`-separated, with no
 * empty, `.` or `..` segment, no backslash or control character, and at most `pathChars` long.
 */
export function badBundlePath(path: string): string | undefined {
  if (path.length === 0 || path.length > BUNDLE_LIMITS.pathChars) {
    return `it is empty or longer than ${BUNDLE_LIMITS.pathChars} characters`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(path)) {
    return "it holds a backslash or a control character";
  }
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "it is absolute";
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    return 'it has an empty, "." or ".." part';
  }
  return undefined;
}

/** Refuses a set of paths where two collide (equal ignoring case) or one is a folder of another. */
function checkPaths(paths: readonly string[]): void {
  const folded = new Map<string, string>();
  for (const path of paths) {
    const why = badBundlePath(path);
    if (why !== undefined) {
      throw new BundleError(
        `Cannot use the bundle path "${path}": ${why}; bundles hold paths inside the spec's folder`,
      );
    }
    const key = path.toLowerCase();
    const other = folded.get(key);
    if (other !== undefined) {
      throw new BundleError(
        `Cannot use the bundle paths "${other}" and "${path}": they name the same file on a case-insensitive disk; rename one`,
      );
    }
    folded.set(key, path);
  }
  for (const path of paths) {
    const parts = path.toLowerCase().split("/");
    for (let i = 1; i < parts.length; i++) {
      const folder = folded.get(parts.slice(0, i).join("/"));
      if (folder !== undefined) {
        throw new BundleError(
          `Cannot use the bundle paths "${folder}" and "${path}": the first is a file and a folder of the second`,
        );
      }
    }
  }
}

/** Characters a YAML text scalar may not keep as they are (control characters but tab and newline, BOM). */
// deno-lint-ignore no-control-regex -- the control characters are what this class finds
const UNSAFE_IN_YAML_TEXT = new RegExp(
  "[\\u0000-\\u0008\\u000b-\\u001f\\u007f\\u0085\\u2028\\u2029\\ufeff]",
);

/** The file as YAML text when it is UTF-8 text that survives YAML unchanged, else as base64. */
function encodeFile(
  bytes: Uint8Array,
  binary: boolean,
): { sha256: string; text: string } | { sha256: string; base64: string } {
  const sha256 = sha256Hex(bytes);
  if (binary) return { sha256, base64: toBase64(bytes) };
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
      .decode(bytes);
    if (!UNSAFE_IN_YAML_TEXT.test(text)) return { sha256, text };
  } catch { /* not UTF-8 */ }
  return { sha256, base64: toBase64(bytes) };
}

function toBase64(bytes: Uint8Array): string {
  let raw = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    raw += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(raw);
}

function decodeBase64(text: string, path: string): Uint8Array {
  let raw: string;
  try {
    raw = atob(text.replace(/\s+/g, ""));
  } catch {
    throw new BundleError(
      `Cannot decode the bundle file "${path}": its base64 is malformed; make the bundle again`,
    );
  }
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/**
 * Writes a bundle: one YAML document holding `entry` and `files` (paths relative to the spec's root
 * folder), each with its sha256, as text when it is text, else base64. Refuses bad paths and sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBundle, encodeBundle } from "./bundle.ts";
 * const files = new Map([["a.yaml", new TextEncoder().encode("name: a\n")]]);
 * const bundle = decodeBundle(encodeBundle("a.yaml", files));
 * assert.equal(bundle.entry, "a.yaml");
 * ```
 */
export function encodeBundle(
  entry: string,
  files: ReadonlyMap<string, Uint8Array>,
): string {
  checkLimits(entry, files);
  const text = writeBundle(entry, files, false);
  try {
    decodeBundle(text);
    return text;
  } catch {
    // A text YAML did not keep byte for byte (it should): every file as base64 then.
    return writeBundle(entry, files, true);
  }
}

function writeBundle(
  entry: string,
  files: ReadonlyMap<string, Uint8Array>,
  binary: boolean,
): string {
  const encoded: Record<string, ReturnType<typeof encodeFile>> = {};
  const hashes = new Map<string, string>();
  for (const path of [...files.keys()].sort()) {
    const file = encodeFile(files.get(path)!, binary);
    encoded[path] = file;
    hashes.set(path, file.sha256);
  }
  const doc = {
    mappa_bundle: 1,
    entry,
    sha256: bundleHash(entry, hashes),
    files: encoded,
  };
  return stringify(doc, {
    lineWidth: 0,
    blockQuote: "literal",
    aliasDuplicateObjects: false,
  });
}

function checkLimits(
  entry: string,
  files: ReadonlyMap<string, Uint8Array>,
): void {
  checkPaths([...files.keys()]);
  if (!files.has(entry)) {
    throw new BundleError(
      `Cannot use the bundle: its entry "${entry}" is not among its files; make the bundle again`,
    );
  }
  if (files.size > BUNDLE_LIMITS.files) {
    throw new BundleError(
      `Cannot bundle ${files.size} files: a bundle holds at most ${BUNDLE_LIMITS.files}; leave the data out (--no-data) or share it by URL`,
    );
  }
  let total = 0;
  let biggest = ["", 0] as [string, number];
  for (const [path, bytes] of files) {
    total += bytes.length;
    if (bytes.length > biggest[1]) biggest = [path, bytes.length];
  }
  if (total > BUNDLE_LIMITS.bytes) {
    throw new BundleError(
      `Cannot bundle ${total} bytes: a bundle holds at most ${BUNDLE_LIMITS.bytes}, and the biggest file is "${
        biggest[0]
      }" (${
        biggest[1]
      } bytes); leave the data out (--no-data) or share it by URL`,
    );
  }
}

/**
 * Reads and verifies a bundle: its shape, every path (relative, no `..`, no duplicates), limits, each
 * file's sha256 and the bundle's own; throws `BundleError` naming what is wrong.
 */
export function decodeBundle(text: string): Bundle {
  if (text.length > BUNDLE_LIMITS.textBytes) {
    throw new BundleError(
      `Cannot read a bundle of ${text.length} characters: at most ${BUNDLE_LIMITS.textBytes}`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0, uniqueKeys: true, schema: "core" });
  } catch (e) {
    throw new BundleError(
      `Cannot parse the bundle: ${
        (e instanceof Error ? e.message : String(e)).split("\n")[0]
      }; make it with deno task bundle`,
    );
  }
  const parsed = BundleSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError(
      `Cannot use the bundle: at ${
        issue.path.join(".") || "its top"
      }: ${issue.message}; make it with deno task bundle`,
    );
  }
  const { entry, files: raw, sha256 } = parsed.data;
  // Paths and counts first: nothing of a bundle with a bad path is decoded.
  checkPaths(Object.keys(raw));
  if (Object.keys(raw).length > BUNDLE_LIMITS.files) {
    throw new BundleError(
      `Cannot use the bundle: it holds more than ${BUNDLE_LIMITS.files} files`,
    );
  }
  const files = new Map<string, Uint8Array>();
  const hashes = new Map<string, string>();
  let total = 0;
  for (const [path, file] of Object.entries(raw)) {
    const bytes = "text" in file
      ? new TextEncoder().encode(file.text)
      : decodeBase64(file.base64, path);
    total += bytes.length;
    if (total > BUNDLE_LIMITS.bytes) break; // checkLimits names it
    const got = sha256Hex(bytes);
    if (got !== file.sha256) {
      throw new BundleError(
        `Cannot use the bundle file "${path}": its sha256 is ${got}, the bundle says ${file.sha256}; the bundle was altered, get it again`,
      );
    }
    files.set(path, bytes);
    hashes.set(path, got);
  }
  if (total > BUNDLE_LIMITS.bytes) {
    throw new BundleError(
      `Cannot use the bundle: its files hold more than ${BUNDLE_LIMITS.bytes} bytes`,
    );
  }
  checkLimits(entry, files);
  const want = bundleHash(entry, hashes);
  if (want !== sha256) {
    throw new BundleError(
      `Cannot use the bundle: its files hash to ${want}, the bundle says ${sha256}; the bundle was altered, get it again`,
    );
  }
  return { entry, sha256, files };
}

/** Whether a text is a bundle (it starts with the `mappa_bundle:` key `encodeBundle` writes first). */
export function isBundleText(text: string): boolean {
  return /^(?:#[^\n]*\n|\s)*mappa_bundle\s*:/.test(text.slice(0, 4096));
}
