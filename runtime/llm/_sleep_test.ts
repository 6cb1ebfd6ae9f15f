import assert from "node:assert/strict";
import { sleep } from "./_sleep.ts";

Deno.test("sleep() waits, and rejects with the abort reason without leaving its timer", async () => {
  const started = performance.now();
  await sleep(20);
  assert.ok(performance.now() - started >= 19);
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
  await assert.rejects(sleep(10, AbortSignal.abort(new Error("early"))), {
    message: "early",
  });
});
