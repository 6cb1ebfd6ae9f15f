/**
 * An error about one file or folder, naming its path: the run store's and the score layers' errors
 * extend it, and each keeps its own class name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PathError } from "./path_error.ts";
 * class StoreError extends PathError {}
 * const e = new StoreError("Cannot read runs/x: it is gone", "runs/x");
 * assert.equal(e.name, "StoreError");
 * assert.equal(e.path, "runs/x");
 * ```
 */
export class PathError extends Error {
  /** The file or folder (or the path given for it). */
  readonly path: string;
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.path = path;
  }
}
