import { SPEC_BUDGETS } from "./budgets.ts";

/** The diagnostic codes of a file that cannot be read as spec text. */
export type FileCode =
  | "file_not_found"
  | "file_is_directory"
  | "file_too_large"
  | "file_not_text";

/**
 * Thrown by `readSpecFile` for a file that is not a spec-sized UTF-8 text file; `code` is the diagnostic
 * code, and `text`/`offset` locate a bad byte (the text decoded with U+FFFD in place of bad bytes).
 */
export class SpecFileError extends Error {
  readonly code: FileCode;
  readonly text?: string;
  readonly offset?: number;
  constructor(
    code: FileCode,
    message: string,
    where?: { text: string; offset: number },
  ) {
    super(message);
    this.name = "SpecFileError";
    this.code = code;
    if (where) {
      this.text = where.text;
      this.offset = where.offset;
    }
  }
}

/** Index of the first byte that does not continue valid UTF-8, or -1 when all of it is valid. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const need = b < 0x80
      ? 0
      : b >= 0xc2 && b <= 0xdf
      ? 1
      : b >= 0xe0 && b <= 0xef
      ? 2
      : b >= 0xf0 && b <= 0xf4
      ? 3
      : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    const c1 = bytes[i + 1] ?? 0;
    if (
      (b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 >= 0xa0) ||
      (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 >= 0x90)
    ) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Reads a spec file (the spec, an extends base, a file:// include, a JSON Schema) as the compiler does:
 * a regular UTF-8 text file of at most `SPEC_BUDGETS.fileBytes` bytes, else a `SpecFileError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSpecFile, SpecFileError } from "./read_spec_file.ts";
 * assert.throws(() => readSpecFile("dsl"), (e) => e instanceof SpecFileError && e.code === "file_is_directory");
 * ```
 */
export function readSpecFile(path: string): string {
  const info = Deno.statSync(path);
  if (info.isDirectory) {
    throw new SpecFileError("file_is_directory", "it is a directory");
  }
  if (!info.isFile) {
    throw new SpecFileError("file_not_found", "it is not a regular file");
  }
  const max = SPEC_BUDGETS.fileBytes;
  if (info.size > max) {
    throw new SpecFileError("file_too_large", tooLarge(info.size));
  }
  const bytes = Deno.readFileSync(path);
  if (bytes.length > max) {
    throw new SpecFileError("file_too_large", tooLarge(bytes.length));
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return new TextDecoder().decode(bytes);
  const before = new TextDecoder().decode(bytes.subarray(0, bad));
  throw new SpecFileError(
    "file_not_text",
    `it is not UTF-8 text: byte ${bad} is 0x${
      bytes[bad]!.toString(16).padStart(2, "0")
    }`,
    { text: new TextDecoder().decode(bytes), offset: before.length },
  );
}

/** Why a file of `size` bytes is refused. */
export function tooLarge(size: number): string {
  return `it is ${size} bytes, more than a spec file may hold (${SPEC_BUDGETS.fileBytes})`;
}

/** How to fix a file (the spec, or an included file: `what`) that cannot be read for reason `code`. */
export function fileHint(code: FileCode, what: string): string {
  switch (code) {
    case "file_is_directory":
      return "name a file inside it";
    case "file_too_large":
      return `split it: a spec file holds at most ${SPEC_BUDGETS.fileBytes} bytes`;
    case "file_not_text":
      return "save the file as UTF-8 text";
    default:
      return what === "spec"
        ? "check the path: it is relative to the current directory"
        : "paths are relative to the file that names them";
  }
}
