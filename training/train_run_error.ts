/** A training run that stopped on an error: the error, and the directory `--resume` continues. */
export class TrainRunError extends Error {
  /** The training run's directory. */
  readonly dir: string;
  constructor(cause: unknown, dir: string) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "TrainRunError";
    this.dir = dir;
  }
}
