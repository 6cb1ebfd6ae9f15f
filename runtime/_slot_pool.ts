/**
 * A fixed set of numbered slots: `use` waits for a free one and passes its number (sandbox executions
 * run under a per-slot uid, reference/sandbox.md §3.1). A pool of one is a mutex.
 */
export class SlotPool {
  readonly #free: number[];
  readonly #waiting: ((slot: number) => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot create a pool of ${size} slots: use 1 or more`,
      );
    }
    this.#free = Array.from({ length: size }, (_, i) => i);
  }

  async use<T>(fn: (slot: number) => Promise<T>): Promise<T> {
    const slot = this.#free.pop() ??
      await new Promise<number>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn(slot);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(slot);
      else this.#free.push(slot);
    }
  }
}
