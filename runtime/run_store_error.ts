/** Thrown when a run directory cannot be created, read or resumed. */
export class RunStoreError extends Error {
  /** The run directory (or the path given for it). */
  readonly path: string;
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunStoreError";
    this.path = path;
  }
}
