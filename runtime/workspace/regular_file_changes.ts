import type { FileChange } from "./file_change.ts";

/** A created or modified regular file with its content hash: what a run store copies. */
export interface RegularFileChange {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * The created and modified regular files of a diff that were hashed and not rejected, for
 * content-addressed copies (read them with `openWorkspaceFile` and check the hash).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { regularFileChanges } from "./regular_file_changes.ts";
 * const files = [...regularFileChanges([
 *   { path: "a.pkl", change: "created", kind: "file", size: 3, sha256: "ab" },
 *   { path: "l", change: "created", kind: "symlink", rejected: "not a regular file" },
 * ])];
 * assert.deepEqual(files, [{ path: "a.pkl", sha256: "ab", size: 3 }]);
 * ```
 */
export function* regularFileChanges(
  changes: Iterable<FileChange>,
): Generator<RegularFileChange> {
  for (const c of changes) {
    if (
      c.kind === "file" && c.change !== "deleted" && c.rejected === undefined &&
      c.sha256 !== undefined
    ) {
      yield { path: c.path, sha256: c.sha256, size: c.size ?? 0 };
    }
  }
}
