import assert from "node:assert/strict";
import { RateLimiter } from "./_rate_limiter.ts";

Deno.test("RateLimiter allows limit starts per window, then waits for the window to slide", async () => {
  const limiter = new RateLimiter(2, { windowMs: 150 });
  const started = performance.now();
  const at: number[] = [];
  await Promise.all(Array.from({ length: 5 }, async () => {
    await limiter.acquire();
    at.push(performance.now() - started);
  }));
  at.sort((a, b) => a - b);
  assert.ok(at[1]! < 50, `second start at ${at[1]}`);
  assert.ok(
    at[2]! >= 145 && at[3]! >= 145,
    `third and fourth at ${at[2]}, ${at[3]}`,
  );
  assert.ok(at[4]! >= 295, `fifth at ${at[4]}`);
});

Deno.test("RateLimiter.acquire() rejects on abort and leaves no timer", async () => {
  const limiter = new RateLimiter(1, { windowMs: 60_000 });
  await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
});
