import assert from "node:assert/strict";
import { sampleTasks } from "./sample_tasks.ts";

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `t${i}`);
}

/** The batches of steps 1..steps, concatenated. */
function stream(
  tasks: readonly string[],
  perStep: number,
  steps: number,
  seed: number,
): string[] {
  const out: string[] = [];
  for (let s = 1; s <= steps; s++) {
    out.push(...sampleTasks(tasks, perStep, s, seed));
  }
  return out;
}

Deno.test("sampleTasks() is deterministic in (ids, perStep, step, seed)", () => {
  const tasks = ids(12);
  const first = [1, 2, 3, 7].map((s) => sampleTasks(tasks, 4, s, 42));
  // Another order of calls, and calls in between, change nothing (a resumed run gets the same batches).
  sampleTasks(tasks, 4, 99, 1);
  const again = [7, 3, 2, 1].map((s) => sampleTasks(tasks, 4, s, 42))
    .reverse();
  assert.deepEqual(again, first);
  for (const batch of first) {
    for (const id of batch) assert.ok(tasks.includes(id), id);
  }
});

Deno.test("sampleTasks() never puts one task twice in a batch", () => {
  for (let n = 1; n <= 9; n++) {
    for (let perStep = 1; perStep <= n + 2; perStep++) {
      for (let seed = 0; seed < 10; seed++) {
        for (let step = 1; step <= 12; step++) {
          const batch = sampleTasks(ids(n), perStep, step, seed);
          assert.equal(
            batch.length,
            Math.min(perStep, n),
            `n=${n} perStep=${perStep} seed=${seed} step=${step}`,
          );
          assert.equal(
            new Set(batch).size,
            batch.length,
            `n=${n} perStep=${perStep} seed=${seed} step=${step}: ${batch}`,
          );
        }
      }
    }
  }
});

Deno.test("sampleTasks() shows each task once per epoch when perStep divides the split", () => {
  const tasks = ids(6);
  for (const perStep of [1, 2, 3, 6]) {
    for (let seed = 0; seed < 20; seed++) {
      const all = stream(tasks, perStep, 3 * (6 / perStep), seed);
      for (let epoch = 0; epoch < 3; epoch++) {
        assert.deepEqual(
          all.slice(epoch * 6, epoch * 6 + 6).sort(),
          tasks,
          `perStep=${perStep} seed=${seed} epoch=${epoch}`,
        );
      }
    }
  }
});

Deno.test("sampleTasks() shows each task once per epoch when a batch straddles two epochs", () => {
  // n = 5, perStep = 2: step 3 takes the last task of epoch 0 and the first of epoch 1. The draws of
  // steps 1..5 are exactly two epochs, so every task must appear exactly twice, and each run of 5
  // consecutive draws from an epoch start must be the whole split.
  for (const [n, perStep] of [[5, 2], [7, 3], [10, 4]] as const) {
    const tasks = ids(n);
    for (let seed = 0; seed < 30; seed++) {
      const steps = n; // n steps of perStep draws = perStep epochs
      const all = stream(tasks, perStep, steps, seed);
      for (let epoch = 0; epoch < perStep; epoch++) {
        assert.deepEqual(
          all.slice(epoch * n, epoch * n + n).sort(),
          [...tasks].sort(),
          `n=${n} perStep=${perStep} seed=${seed} epoch=${epoch}: batches ${
            JSON.stringify(
              Array.from(
                { length: steps },
                (_, s) => sampleTasks(tasks, perStep, s + 1, seed),
              ),
            )
          }`,
        );
      }
    }
  }
});

Deno.test("sampleTasks() caps perStep at the split's size", () => {
  const tasks = ids(4);
  for (let step = 1; step <= 5; step++) {
    const batch = sampleTasks(tasks, 10, step, 3);
    assert.deepEqual([...batch].sort(), tasks, `step ${step}`);
  }
  assert.deepEqual(sampleTasks(["only"], 8, 1, 0), ["only"]);
  assert.deepEqual(sampleTasks([], 8, 1, 0), []);
});

Deno.test("sampleTasks() gives different batches for different seeds and epochs", () => {
  const tasks = ids(20);
  const orders = [0, 1, 2, 3, 4].map((seed) =>
    sampleTasks(tasks, 20, 1, seed).join(",")
  );
  assert.equal(new Set(orders).size, orders.length, orders.join("\n"));
  // Each epoch is a fresh shuffle, not the first one repeated.
  assert.notDeepEqual(
    sampleTasks(tasks, 20, 1, 5),
    sampleTasks(tasks, 20, 2, 5),
  );
  // And the first batch is shuffled, not the split's order.
  assert.notDeepEqual(sampleTasks(tasks, 20, 1, 5), tasks);
});
