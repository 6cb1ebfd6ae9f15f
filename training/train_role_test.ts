import assert from "node:assert/strict";
import { json, serve } from "../tests/fixtures/training_fixtures.ts";
import type { RoleStep } from "./metrics.ts";
import type { Sample, TrainRequest } from "./protocol.ts";
import { TrainerClient, TrainerError } from "./trainer_client.ts";
import { trainRole } from "./train_role.ts";

function sample(id: string, reward: number): Sample {
  return {
    sample_id: id,
    trajectory_id: "t",
    action_index: 0,
    policy_version: 4,
    prompt_token_ids: [1, 2],
    completion_token_ids: [3],
    reward,
  };
}

const BASE: RoleStep = {
  version_before: 4,
  version: 4,
  samples: 3,
  masked: { unscored: 1 },
  reward_mean: 0.5,
  score_mean: 5,
  scored: 3,
  completion_tokens: 3,
};

const UPDATE = {
  role: "drafter",
  policyId: "run1.drafter",
  step: 7,
  runId: "step_0007",
  expected: 4,
  key: "run1:step_0007:drafter:1",
  samples: [sample("a", 0), sample("b", 1), sample("c", 0.5)],
  base: BASE,
};

const DONE = (policy: string) =>
  new Response(
    JSON.stringify({
      type: "done",
      policy_id: policy,
      new_version: 5,
      metrics: { loss: 0.1 },
    }) + "\n",
    { headers: { "content-type": "application/x-ndjson" } },
  );

Deno.test("trainRole() sends the role's samples to its policy and records the new version", async () => {
  await using server = serve((r) => DONE((r.body as TrainRequest).policy_id));
  const record = await trainRole(new TrainerClient(server.url), UPDATE);
  assert.deepEqual(record, { ...BASE, version: 5, train: { loss: 0.1 } });
  const sent = server.received[0]!.body as TrainRequest;
  assert.equal(sent.policy_id, "run1.drafter");
  assert.equal(sent.expected_version, 4);
  assert.equal(sent.idempotency_key, UPDATE.key);
  assert.equal(sent.step, 6); // step 7 of the run: index 6 of the lr schedule
  assert.equal(sent.total_steps, undefined);
  assert.deepEqual(sent.samples.map((s) => s.sample_id), ["a", "b", "c"]);
});

Deno.test("trainRole() drops the samples the trainer refuses by id and sends the rest once more", async () => {
  await using server = serve((r) => {
    const body = r.body as TrainRequest;
    return body.samples.some((s) => s.sample_id === "b")
      ? json({
        error: "invalid_tokens",
        message: "out of vocabulary",
        sample_ids: ["b"],
      }, 422)
      : DONE(body.policy_id);
  });
  const record = await trainRole(new TrainerClient(server.url), UPDATE);
  assert.equal(record.version, 5);
  assert.equal(record.samples, 2);
  assert.deepEqual(record.masked, { unscored: 1, refused: 1 });
  const retry = server.received[1]!.body as TrainRequest;
  assert.deepEqual(retry.samples.map((s) => s.sample_id), ["a", "c"]);
  assert.notEqual(retry.idempotency_key, UPDATE.key);
});

Deno.test("trainRole() records a batch without signal as skipped, and an empty one without calling", async () => {
  await using server = serve(() =>
    json({ error: "no_signal", message: "rewards do not differ" }, 422)
  );
  const client = new TrainerClient(server.url);
  assert.deepEqual(await trainRole(client, UPDATE), {
    ...BASE,
    skipped: "no_signal",
  });
  assert.deepEqual(await trainRole(client, { ...UPDATE, samples: [] }), {
    ...BASE,
    skipped: "no_samples",
  });
  assert.equal(server.received.length, 1);
});

Deno.test("trainRole() names the step, the role and its rollouts when the trainer refuses otherwise", async () => {
  await using server = serve(() =>
    json(
      { error: "version_conflict", message: "at 6", current_version: 6 },
      409,
    )
  );
  const err = await trainRole(new TrainerClient(server.url), UPDATE).catch((
    e,
  ) => e);
  assert(err instanceof TrainerError);
  assert.equal(err.code, "version_conflict");
  assert.match(
    err.message,
    /^Cannot train role "drafter" at step 7 \(rollouts in steps\/step_0007\): .*at 6/,
  );
  assert.equal(server.received.length, 1);
});
