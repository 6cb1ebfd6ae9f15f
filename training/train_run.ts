import { join } from "node:path";
import type { ExecutionGraph, GraphTrain } from "../dsl/mod.ts";
import { type MetricsLine, MetricsLineSchema, readMetrics } from "./metrics.ts";
import type { TrainerInfo } from "./protocol.ts";
import { writeFileAtomic } from "../runtime/mod.ts";
import type { CoachNoise } from "./coach_noise.ts";
import { readTrainManifest, type TrainManifest } from "./train_manifest.ts";

export type { TrainManifest } from "./train_manifest.ts";

/** A training run directory, open for appending. */
export interface TrainRun {
  readonly id: string;
  readonly dir: string;
  /** The settings this session trains with. */
  readonly train: GraphTrain;
  /** The coach noise this run trains under, if any (kept across resumes). */
  readonly coachNoise?: CoachNoise;
  /** The last finished step (0: none). */
  readonly lastStep: number;
  /** Each role's policy version after the last finished step. */
  readonly versions: Readonly<Record<string, number>>;
  /** `<step>:<split>` of every evaluation written. */
  readonly evalsDone: ReadonlySet<string>;
  /** This session's number, part of idempotency keys so a resumed step trains anew. */
  readonly session: number;
  checkTrainer(info: TrainerInfo): Promise<void>;
  append(
    line: MetricsLine,
    onLine?: (line: MetricsLine, run: TrainRun) => void,
  ): Promise<void>;
  /** Marks the run failed (an error stopped it); `--resume` continues it. */
  fail(message: string): Promise<void>;
  finish(
    status: "completed" | "interrupted",
    versions: Record<string, number>,
  ): Promise<
    {
      dir: string;
      steps: number;
      status: "completed" | "interrupted";
      versions: Record<string, number>;
    }
  >;
}

function redactUrl(url: string): string {
  if (url === "local") return url;
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.href;
  } catch {
    return url;
  }
}

function writeJson(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Creates a training run directory (`<outDir>/<pipeline>__train__<seed>__<unix_ts>`), or opens one to
 * resume: its spec hash must match and the trainer's tokenizer must be the one it started with.
 */
export async function openTrainRun(
  graph: ExecutionGraph,
  spec: GraphTrain,
  options: {
    outDir: string;
    trainer: string;
    resume?: string;
    /** Command-line settings that replace the spec's (a new run) or the recorded ones (a resumed run). */
    overrides?: {
      steps?: number;
      outcomeWeight?: number;
      seed?: number;
      /** Noise without a seed takes the run's train.seed. */
      coachNoise?: Omit<CoachNoise, "seed"> & { seed?: number };
    };
    /** Throws when the settings cannot work; runs before anything is written. */
    check?: (train: GraphTrain) => void;
  },
): Promise<TrainRun> {
  const apply = (base: GraphTrain): GraphTrain => {
    const o = options.overrides ?? {};
    return {
      ...base,
      ...(o.steps !== undefined ? { steps: o.steps } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      reward: {
        ...base.reward,
        ...(o.outcomeWeight !== undefined
          ? { outcome_weight: o.outcomeWeight }
          : {}),
      },
    };
  };
  let train: GraphTrain;
  let dir: string;
  let manifest: TrainManifest;
  if (options.resume !== undefined) {
    const candidates = [options.resume, join(options.outDir, options.resume)];
    const found = [];
    for (const c of candidates) {
      if (
        await Deno.stat(join(c, "train.json")).then(() => true, () => false)
      ) found.push(c);
    }
    if (found.length === 0) {
      throw new RangeError(
        `Cannot resume training run "${options.resume}": no train.json at ${
          candidates.join(" or ")
        }; pass the directory that deno task train printed`,
      );
    }
    dir = found[0]!;
    manifest = await readTrainManifest(dir, `resume training run ${dir}`);
    if (manifest.spec_hash !== graph.spec_hash) {
      throw new RangeError(
        `Cannot resume training run ${dir}: it was started with spec hash ${
          manifest.spec_hash.slice(0, 12)
        }, this spec's is ${
          graph.spec_hash.slice(0, 12)
        }; resume it with the spec it started with`,
      );
    }
    train = apply(manifest.train);
    options.check?.(train);
    manifest.train = train;
    const noise = options.overrides?.coachNoise;
    if (noise !== undefined) {
      manifest.coach_noise = { ...noise, seed: noise.seed ?? train.seed };
    }
    manifest.sessions += 1;
    manifest.status = "running";
  } else {
    train = apply(spec);
    options.check?.(train);
    const base = `${graph.name}__train__${train.seed}__${
      Math.floor(Date.now() / 1000)
    }`;
    let id = base;
    for (
      let n = 2;
      await Deno.stat(join(options.outDir, id)).then(() => true, () => false);
      n++
    ) {
      id = `${base}_${n}`;
    }
    dir = join(options.outDir, id);
    await Deno.mkdir(dir, { recursive: true });
    manifest = {
      kind: "training",
      run_id: id,
      created_at: new Date().toISOString(),
      status: "running",
      spec_file: graph.spec_file,
      spec_hash: graph.spec_hash,
      train,
      trainer: redactUrl(options.trainer),
      sessions: 1,
      versions: Object.fromEntries(train.roles.map((r) => [r, 0])),
    };
    const noise = options.overrides?.coachNoise;
    if (noise !== undefined) {
      manifest.coach_noise = { ...noise, seed: noise.seed ?? train.seed };
    }
  }
  await writeJson(join(dir, "train.json"), manifest);
  const lines = await readMetrics(dir);
  // A torn last line is dropped by readMetrics; rewrite the file so appends start on a clean line.
  await Deno.writeTextFile(
    join(dir, "metrics.jsonl"),
    lines.map((l) => JSON.stringify(l) + "\n").join(""),
  );
  const steps = lines.filter((l) => l.type === "step");
  const last = steps.at(-1);
  const versions: Record<string, number> = Object.fromEntries(
    train.roles.map((r) => [r, last?.roles[r]?.version ?? 0]),
  );
  const run: TrainRun = {
    id: manifest.run_id,
    dir,
    train,
    ...(manifest.coach_noise !== undefined
      ? { coachNoise: manifest.coach_noise }
      : {}),
    lastStep: last?.step ?? 0,
    versions,
    evalsDone: new Set(
      lines.filter((l) => l.type === "eval").map((l) => `${l.step}:${l.split}`),
    ),
    session: manifest.sessions,
    async checkTrainer(info) {
      const was = manifest.trainer_info?.tokenizer;
      if (
        was &&
        (was.vocab_size !== info.tokenizer.vocab_size ||
          was.chat_template_sha256 !== info.tokenizer.chat_template_sha256)
      ) {
        throw new RangeError(
          `Cannot continue training run ${dir}: the trainer's tokenizer changed (vocab ${was.vocab_size} -> ${info.tokenizer.vocab_size}, chat template ${
            was.chat_template_sha256.slice(0, 12)
          } -> ${
            info.tokenizer.chat_template_sha256.slice(0, 12)
          }); token ids of earlier steps would not mean the same; use the base model it started with`,
        );
      }
      manifest.trainer_info ??= info;
      await writeJson(join(dir, "train.json"), manifest);
    },
    async append(line, onLine) {
      const checked = MetricsLineSchema.parse(line);
      await Deno.writeTextFile(
        join(dir, "metrics.jsonl"),
        JSON.stringify(checked) + "\n",
        {
          append: true,
        },
      );
      if (checked.type === "step") {
        for (const [role, r] of Object.entries(checked.roles)) {
          manifest.versions[role] = r.version;
        }
        manifest.updated_at = checked.ts;
        await writeJson(join(dir, "train.json"), manifest);
      }
      // A promise it returns is awaited: a caller may hold the run between steps (tests restart an engine there).
      await (onLine?.(checked, run) as unknown);
    },
    async fail(message) {
      manifest.status = "failed";
      manifest.error = message;
      manifest.updated_at = new Date().toISOString();
      await writeJson(join(dir, "train.json"), manifest);
    },
    async finish(status, finalVersions) {
      manifest.status = status;
      delete manifest.error;
      manifest.versions = { ...finalVersions };
      manifest.updated_at = new Date().toISOString();
      await writeJson(join(dir, "train.json"), manifest);
      const done =
        (await readMetrics(dir)).filter((l) => l.type === "step").length;
      return { dir, steps: done, status, versions: { ...finalVersions } };
    },
  };
  return run;
}
