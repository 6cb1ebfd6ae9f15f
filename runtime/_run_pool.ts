/**
 * Calls `fn` on each item with at most `size` calls in flight; stops starting new ones once `signal` aborts
 * or a call throws, and rethrows the first error after the running ones finish.
 */
export async function runPool<T>(
  items: readonly T[],
  size: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !signal?.aborted && !failed) {
      try {
        await fn(items[next++]!);
      } catch (e) {
        failed = true; // stop starting episodes, but let running ones finish before the run closes
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(size, items.length) }, worker),
  );
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}
