import assert from "node:assert/strict";
import { Semaphore } from "./_semaphore.ts";

Deno.test("Semaphore admits at most limit holders, in FIFO order", async () => {
  const semaphore = new Semaphore(2);
  const order: number[] = [];
  let active = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 6 }, async (_, i) => {
    const release = await semaphore.acquire();
    order.push(i);
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    active--;
    release();
    release(); // a second release is a no-op
  }));
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(semaphore.held, 0);
});

Deno.test("Semaphore.acquire() rejects when its signal aborts, and frees nothing it did not hold", async () => {
  const semaphore = new Semaphore(1);
  const release = await semaphore.acquire();
  const controller = new AbortController();
  const waiting = semaphore.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
  release();
  assert.equal(semaphore.held, 0);
  await assert.rejects(
    semaphore.acquire(AbortSignal.abort(new Error("early"))),
    {
      message: "early",
    },
  );
});

Deno.test("Semaphore rejects a limit below 1", () => {
  assert.throws(() => new Semaphore(0), RangeError);
});

Deno.test("Semaphore.raise() lets waiters in at once and never lowers the limit", async () => {
  const semaphore = new Semaphore(1);
  const first = await semaphore.acquire();
  const admitted: number[] = [];
  const waiting = [1, 2, 3].map((i) =>
    semaphore.acquire().then((release) => {
      admitted.push(i);
      return release;
    })
  );
  await Promise.resolve();
  assert.deepEqual(admitted, []);
  semaphore.raise(3);
  await Promise.resolve();
  assert.deepEqual(admitted, [1, 2]);
  assert.equal(semaphore.held, 3);
  semaphore.raise(2);
  assert.equal(semaphore.limit, 3);
  first();
  for (const release of await Promise.all(waiting)) release();
  assert.deepEqual(admitted, [1, 2, 3]);
  assert.equal(semaphore.held, 0);
});
