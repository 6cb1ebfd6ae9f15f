interface Waiter {
  readonly resolve: (release: () => void) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** A FIFO counting semaphore: at most `limit` holders at once; waiting is abortable; the limit can grow. */
export class Semaphore {
  #limit: number;
  #held = 0;
  readonly #waiters: Waiter[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create a semaphore with limit ${limit}: the limit must be a positive integer`,
      );
    }
    this.#limit = limit;
  }

  /** Holders allowed at once. */
  get limit(): number {
    return this.#limit;
  }

  /** Raises the limit to `limit` (never lowers it), letting waiters in at once. */
  raise(limit: number): void {
    if (!Number.isInteger(limit) || limit <= this.#limit) return;
    this.#limit = limit;
    while (this.#held < this.#limit && this.#waiters.length > 0) {
      const next = this.#waiters.shift()!;
      next.signal?.removeEventListener("abort", next.onAbort);
      this.#held++;
      next.resolve(this.#releaser());
    }
  }

  /** Current holders. */
  get held(): number {
    return this.#held;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#held < this.#limit && this.#waiters.length === 0) {
      this.#held++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next === undefined) {
        this.#held--;
        return;
      }
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.#releaser());
    };
  }
}
