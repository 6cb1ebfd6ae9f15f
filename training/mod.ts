/**
 * The training layer: rollouts with trainer-served policies -> coach verdicts -> one sample per action ->
 * the attached trainer (reference/trainer-protocol.md), with held-out evaluation. Imports dsl, runtime
 * and coaches; the Python trainer is reached only over HTTP.
 *
 * @module
 */
export * from "./format_metrics.ts";
export * from "./local_trainer.ts";
export * from "./metrics.ts";
export * from "./policy_client.ts";
export * from "./prng.ts";
export * from "./protocol.ts";
export * from "./run_stats.ts";
export * from "./sample_tasks.ts";
export * from "./samples.ts";
export * from "./train_pipeline.ts";
export * from "./train_run.ts";
export { readTrainManifest, TrainManifestSchema } from "./train_manifest.ts";
export * from "./trainer_client.ts";
export * from "./vllm_engine.ts";
