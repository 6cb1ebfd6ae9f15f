import assert from "node:assert/strict";
import { compileFile } from "../dsl/mod.ts";
import { PolicyConfigSchema } from "./protocol.ts";
import { policyConfig } from "./train_pipeline.ts";

Deno.test("policyConfig() maps the spec's hyperparameters onto the trainer's policy config", () => {
  const compiled = compileFile("pipelines/math.yaml");
  assert(compiled.ok && compiled.graph.train);
  const train = compiled.graph.train;
  const config = policyConfig(train);
  assert(PolicyConfigSchema.safeParse(config).success);
  // MAPPA's schedule over math.yaml's 128 steps: 3% warmup is 4 updates, cosine down to 0.1x.
  assert.deepEqual(config.optimizer, {
    lr: 1e-6,
    weight_decay: 0,
    grad_clip: 1,
    schedule: "cosine",
    warmup_steps: 4,
    total_steps: 128,
    min_lr_ratio: 0.1,
  });
  assert.deepEqual(config.adapter, { r: 16, alpha: 32 });
  assert.equal(config.algo.name, "reinforce_pp");
  assert.deepEqual(config.algo.clip_eps, [0.2, 0.2]);
  assert.deepEqual(config.algo.reward_clip, [-10, 10]);
  assert.equal(config.algo.no_std_norm, false);
  // Truncation is masked by the runtime from finish reasons, never by the trainer's own guess.
  assert.equal(config.algo.mask_truncated, false);
  const group = policyConfig({
    ...train,
    hyperparameters: { ...train.hyperparameters, baseline: "group" },
  });
  assert.equal(group.algo.name, "reinforce_pp_baseline");
  // minibatch_size unset: the whole step's samples in one optimizer step per epoch; set, several.
  assert.equal(config.algo.minibatch_size, 4096);
  const minibatches = policyConfig({
    ...train,
    hyperparameters: {
      ...train.hyperparameters,
      minibatch_size: 16,
      epochs: 2,
    },
  });
  assert.equal(minibatches.algo.minibatch_size, 16);
  assert.equal(minibatches.algo.ppo_epochs, 2);
});
