/** What an lstat saw at a path; everything but "file" and "dir" is rejected from workspaces. */
export type EntryKind =
  | "file"
  | "dir"
  | "symlink"
  | "fifo"
  | "socket"
  | "device"
  | "other";

/**
 * Why a special file was rejected (reference/sandbox.md §3.5). Entries a snapshot cannot record are
 * rejected with "removed: <why>" (a name that is not UTF-8, a path past PATH_MAX, past the entry cap).
 */
export const NOT_A_REGULAR_FILE = "not a regular file";

/**
 * One change to an episode workspace between two snapshots, as recorded in the run log and shown to
 * the coach (wire format: snake_case).
 */
export interface FileChange {
  /** Relative to the workspace root, with "/" separators. */
  readonly path: string;
  readonly change: "created" | "modified" | "deleted";
  readonly kind: EntryKind;
  readonly size?: number;
  /** Hex sha256 of a created or modified regular file, read without following symlinks. */
  readonly sha256?: string;
  /** Set when the entry is not trusted evidence, e.g. "not a regular file". */
  readonly rejected?: string;
  /** Why the content was not copied into blobs/ (a sparse file, or past the blob cap). */
  readonly not_stored?: string;
}
