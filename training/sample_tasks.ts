import { mulberry32 } from "./prng.ts";
/** A seeded generator, so a step's batch is the same when a run resumes. */
const prng = mulberry32;

function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = prng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The order of epoch `epoch`: a seeded shuffle, adjusted so that the batch straddling the end of the
 * previous epoch does not hold a task twice (its head avoids the previous epoch's tail in that batch).
 */
function epochOrder(
  n: number,
  size: number,
  seed: number,
  epoch: number,
): number[] {
  let prev = permutation(n, seed * 1_000_003);
  for (let e = 1; e <= epoch; e++) {
    const cur = permutation(n, seed * 1_000_003 + e);
    const tailCount = (e * n) % size;
    if (tailCount > 0) {
      const tail = new Set(prev.slice(n - tailCount));
      const headCount = Math.min(size - tailCount, n);
      for (let i = 0; i < headCount; i++) {
        if (!tail.has(cur[i]!)) continue;
        let j = headCount;
        while (tail.has(cur[j]!)) j++;
        [cur[i], cur[j]] = [cur[j]!, cur[i]!];
      }
    }
    prev = cur;
  }
  return prev;
}

/**
 * The task ids of training step `step` (from 1): the split is walked in epochs, each a fresh seeded
 * shuffle, `perStep` tasks a step, so every task is seen exactly once an epoch and a resumed run gets
 * the same batches. A batch never holds one task twice (`perStep` is capped at the split's size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleTasks } from "./sample_tasks.ts";
 * const ids = ["a", "b", "c", "d"];
 * assert.deepEqual(sampleTasks(ids, 2, 1, 7), sampleTasks(ids, 2, 1, 7));
 * assert.equal(new Set([...sampleTasks(ids, 2, 1, 7), ...sampleTasks(ids, 2, 2, 7)]).size, 4);
 * ```
 */
export function sampleTasks(
  ids: readonly string[],
  perStep: number,
  step: number,
  seed: number,
): string[] {
  const n = ids.length;
  if (n === 0) return [];
  const size = Math.min(perStep, n);
  const orders = new Map<number, number[]>();
  const out: string[] = [];
  for (let pos = (step - 1) * size; pos < step * size; pos++) {
    const epoch = Math.floor(pos / n);
    if (!orders.has(epoch)) orders.set(epoch, epochOrder(n, size, seed, epoch));
    out.push(ids[orders.get(epoch)![pos % n]!]!);
  }
  return out;
}
