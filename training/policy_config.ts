import type { GraphTrain } from "../dsl/mod.ts";
import type { PolicyConfig } from "./protocol.ts";

/** The policy a trained role gets on the trainer, from the spec's hyperparameters. */
export function policyConfig(train: GraphTrain): PolicyConfig {
  const h = train.hyperparameters;
  return {
    adapter: {
      r: h.lora_rank,
      alpha: h.lora_alpha,
      ...(h.lora_target_modules !== undefined
        ? { target_modules: [...h.lora_target_modules] }
        : {}),
    },
    optimizer: {
      lr: h.learning_rate,
      weight_decay: 0,
      grad_clip: h.max_grad_norm,
      // The schedule spans the run's steps; each train request names its step (trainRole).
      schedule: h.lr_schedule,
      warmup_steps: Math.round(h.warmup_ratio * train.steps),
      total_steps: train.steps,
      min_lr_ratio: h.min_lr_ratio,
    },
    algo: {
      name: h.baseline === "group" ? "reinforce_pp_baseline" : "reinforce_pp",
      kl_coef: h.kl_coef,
      kl_estimator: "k1",
      clip_eps: [h.clip_eps, h.clip_eps],
      reward_clip: [-h.reward_clip, h.reward_clip],
      gamma: h.gamma,
      ppo_epochs: h.epochs,
      // Samples per optimizer step; unset: the whole step's samples (one optimizer step per epoch).
      minibatch_size: h.minibatch_size ?? 4096,
      // The runtime masks truncated actions itself, by the finish reason the server reported; the
      // trainer's own test (last token not EOS) would also drop replies cut by a stop string.
      mask_truncated: false,
      no_std_norm: !h.normalize_std,
    },
  };
}
