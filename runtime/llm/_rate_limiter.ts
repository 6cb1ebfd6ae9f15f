interface Waiter {
  readonly resolve: () => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Length of the sliding window. @default 60_000 */
  readonly windowMs?: number;
  /** Clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

/**
 * A sliding-window limiter: at most `limit` starts in any window (a minute by default), served in
 * FIFO order; one timer at most, cleared when nobody waits.
 */
export class RateLimiter {
  readonly limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #starts: number[] = [];
  readonly #waiters: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limit: number, options: RateLimiterOptions = {}) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create a rate limiter with limit ${limit}: the limit must be a positive integer`,
      );
    }
    this.limit = limit;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Resolves when a start is allowed (and counts it); rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          if (this.#waiters.length === 0) this.#clearTimer();
          reject(signal?.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  #pump(): void {
    const now = this.#now();
    while (
      this.#starts.length > 0 && this.#starts[0]! <= now - this.#windowMs
    ) {
      this.#starts.shift();
    }
    while (this.#waiters.length > 0 && this.#starts.length < this.limit) {
      const waiter = this.#waiters.shift()!;
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      this.#starts.push(now);
      waiter.resolve();
    }
    if (this.#waiters.length === 0 || this.#timer !== undefined) return;
    const wait = this.#starts[0]! + this.#windowMs - now;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.max(1, Math.ceil(wait)));
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
