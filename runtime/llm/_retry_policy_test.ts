import assert from "node:assert/strict";
import { resolveRetryOptions, retryDelayMs } from "./_retry_policy.ts";

Deno.test("resolveRetryOptions() fills the documented defaults", () => {
  assert.deepEqual(resolveRetryOptions(), {
    initialDelayMs: 500,
    maxDelayMs: 30_000,
    multiplier: 2,
    jitter: 0.5,
    maxRetryAfterMs: 120_000,
  });
  assert.throws(() => resolveRetryOptions({ jitter: 2 }), RangeError);
  assert.throws(() => resolveRetryOptions({ multiplier: 0.5 }), RangeError);
  assert.throws(() => resolveRetryOptions({ initialDelayMs: -1 }), RangeError);
});

Deno.test("retryDelayMs() backs off exponentially with jitter, up to the cap", () => {
  const options = resolveRetryOptions({
    initialDelayMs: 100,
    maxDelayMs: 1000,
  });
  const none = () => 0;
  const most = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, undefined, options, none)),
    [
      100,
      200,
      400,
      800,
      1000,
    ],
  );
  assert.equal(retryDelayMs(2, undefined, options, most), 100);
});

Deno.test("retryDelayMs() waits exactly the server's Retry-After, capped", () => {
  const options = resolveRetryOptions({ maxRetryAfterMs: 5000 });
  assert.equal(retryDelayMs(1, 200, options, () => 0.9), 200);
  assert.equal(retryDelayMs(1, 0, options), 0);
  assert.equal(retryDelayMs(1, 60_000, options), 5000);
});
