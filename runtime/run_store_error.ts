import { PathError } from "./path_error.ts";

/** Thrown when a run directory cannot be created, read or resumed; `path` is that directory. */
export class RunStoreError extends PathError {}
