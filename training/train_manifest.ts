import { join } from "node:path";
import { z } from "zod";
import type { GraphTrain } from "../dsl/mod.ts";
import type { CoachNoise } from "./coach_noise.ts";
import { TrainerInfoSchema } from "./protocol.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `train.json`: what a training run is, written before the first step and updated as it goes. */
export const TrainManifestSchema = z.looseObject({
  kind: z.literal("training"),
  run_id: z.string(),
  created_at: z.string(),
  status: z.enum(["running", "completed", "interrupted", "failed"]),
  /** Why the last session stopped, when it failed. */
  error: z.string().optional(),
  spec_file: z.string(),
  spec_hash: z.string(),
  /** The train settings in force, after command-line overrides (compiled; only `roles` checked here). */
  train: z.custom<GraphTrain>(
    (v) => isObject(v) && Array.isArray(v.roles),
    "expected the train settings, with roles",
  ),
  /** `local`, or the trainer's URL without credentials. */
  trainer: z.string(),
  /** A study's corruption of the coach's verdicts (`--coach-flip`, `--coach-bias`); absent: none. */
  coach_noise: z.custom<CoachNoise>(isObject, "expected an object").optional(),
  /** The trainer's `/v1/info` at the first start: a resumed run refuses another tokenizer. */
  trainer_info: TrainerInfoSchema.optional(),
  /** How many times the run was started (1 + resumes). */
  sessions: z.number(),
  versions: z.record(z.string(), z.number()),
  updated_at: z.string().optional(),
});

/** A training run's train.json. */
export type TrainManifest = z.infer<typeof TrainManifestSchema>;

// What a reader needs at least; the rest is checked when present (reports of hand-made runs read too).
const ReadableTrainManifestSchema = TrainManifestSchema.partial().required({
  kind: true,
  run_id: true,
  train: true,
});

const HINT = "pass a directory that deno task train wrote";

/**
 * Reads and checks a training run's train.json; `action` names what the caller was doing, for the
 * one-line RangeError that names the file and the fix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTrainManifest } from "./train_manifest.ts";
 * await assert.rejects(readTrainManifest("/nonexistent", "report on it"), /it has no train\.json/);
 * ```
 */
export async function readTrainManifest(
  dir: string,
  action: string,
): Promise<TrainManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(join(dir, "train.json")));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "it has no train.json"
      : `its train.json cannot be read (${e instanceof Error ? e.message : e})`;
    throw new RangeError(`Cannot ${action}: ${why}; ${HINT}`, { cause: e });
  }
  const kind = isObject(json) ? json.kind : undefined;
  const parsed = ReadableTrainManifestSchema.safeParse(json);
  if (kind !== "training" || !parsed.success) {
    const issue = parsed.error?.issues[0];
    throw new RangeError(
      `Cannot ${action}: its train.json is not a training manifest (${
        kind !== "training" || issue === undefined
          ? `kind "${kind}"`
          : `${issue.path.join(".") || "the file"}: ${issue.message}`
      }); ${HINT}`,
    );
  }
  // The file's own object: a rewrite keeps its keys in their order.
  return json as TrainManifest;
}
