import { createHash } from "node:crypto";
import type { GraphCoach, GraphRubric } from "../dsl/mod.ts";
import { loadTasks } from "../runtime/mod.ts";
import { readRunManifest } from "../runtime/mod.ts";
import { outcomeFromLog } from "./outcome_evidence.ts";
import { scoreAction, type ScoreActionOptions } from "./score_action.ts";
import type { Task } from "../runtime/mod.ts";
import type { ModelClient, Sandbox } from "../runtime/mod.ts";
import { CheckCache } from "./check_cache.ts";
import { JudgeBudget } from "./judge_budget.ts";
import { JudgeCache } from "./judge_cache.ts";
import { type ActionKey, RunLog } from "../runtime/mod.ts";
import { layerName, ScoreLayerWriter, verdictKey } from "./score_layer.ts";
import type { OutcomeEvidence, Verdict } from "./types.ts";

// Rescoring a finished run under a rubric version (`deno task rescore`): only judge calls, never agent
// calls; verdicts go to the rubric's score layer, which gains only the actions it lacks (DESIGN.md 6, 7).

export { scoreAction, type ScoreActionOptions } from "./score_action.ts";

const DEFAULT_JUDGE: GraphCoach["judge"] = {
  temperature: 0,
  seed: 0,
  max_retries: 2,
  structured_output: true,
};

/** Options of `rescoreRun`. */
export interface RescoreOptions {
  /** The rubric version to score with (e.g. from `loadRubricFile`); its layer is `<name>@<hash>`. */
  readonly rubric: GraphRubric;
  /** Score only these roles' actions. @default every role's */
  readonly roles?: readonly string[];
  /** Score a deterministic sample of this many actions (after `roles`). @default every action */
  readonly sample?: number;
  /** Seed of the sample. @default 0 */
  readonly seed?: number;
  /** Answers judge requests; required for a rubric with a template (an LLM judge). */
  readonly client?: ModelClient;
  /** The judge's model key. @default the run's `coach.model` */
  readonly model?: string;
  /** Sampling, retries, structured output. @default the run's `coach.judge`, else temperature 0, seed 0 */
  readonly judge?: GraphCoach["judge"];
  /** Where judge verdicts are cached. @default `new JudgeCache()` (.cache/judge) */
  readonly cache?: JudgeCache;
  /** Limits this rescore's judge calls. @default a fresh budget of the run's `coach.budget`, if any */
  readonly budget?: JudgeBudget;
  /** The graded outcome of an episode, shown to roles with `coach_sees_outcome`. */
  readonly outcomeFor?: (episodeId: string) => OutcomeEvidence | undefined;
  /**
   * The run's tasks, so evidence shows `task.<input>`. @default loaded from the run's dataset split
   * (`manifest.json` `args.split`); when that fails a rubric with a template is refused
   */
  readonly tasks?: readonly Task[];
  /** Judge calls in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Stops starting judge calls; verdicts already written stay. */
  readonly signal?: AbortSignal;
  /** Called with each verdict once it is written (progress). */
  readonly onVerdict?: (verdict: Verdict) => void;
  /** Runs the programs of `when: command` checks (README.md#custom-checks). */
  readonly sandbox?: Sandbox;
  /** Where command checks' decisions are kept. @default `new CheckCache()` (.cache/checks) */
  readonly checkCache?: CheckCache;
}

/** What a rescore did. */
export interface RescoreResult {
  /** `<rubric-name>@<rubric-hash>`. */
  readonly layer: string;
  readonly path: string;
  /** Actions chosen (after `roles` and `sample`). */
  readonly selected: number;
  /** Chosen actions the layer already held, so not judged again. */
  readonly skipped: number;
  /** Verdicts appended. */
  readonly written: number;
  /** Appended verdicts that came from the judge cache (no call). */
  readonly cached: number;
  /** Appended verdicts that are unscored (judge failure, budget). */
  readonly unscored: number;
  readonly judge_calls: number;
  readonly cost_usd: number;
  /** True when `signal` stopped the rescore before every chosen action was judged. */
  readonly interrupted: boolean;
}

/**
 * A deterministic sample of `n` actions: those whose sha256 of `<seed>:<episode>#<attempt>#<action>`
 * sorts first, kept in log order. A larger `n` with the same seed keeps every action of a smaller one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleActions } from "./rescore.ts";
 * const keys = [0, 1, 2, 3].map((i) => ({ episode_id: "e", attempt: 1, action_index: i, role: "r" }));
 * assert.deepEqual(sampleActions(keys, 2, 7), sampleActions(keys, 2, 7));
 * assert.equal(sampleActions(keys, 9, 7).length, 4);
 * ```
 */
export function sampleActions<K extends ActionKey>(
  keys: readonly K[],
  n: number,
  seed: number,
): K[] {
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new RangeError(
      `Cannot sample ${n} actions: the sample size must be an integer >= 0`,
    );
  }
  const rank = (k: K) =>
    createHash("sha256").update(`${seed}:${verdictKey(k)}`).digest("hex");
  const chosen = new Set(
    keys.map((k) => [rank(k), k] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, n)
      .map(([, k]) => k),
  );
  return keys.filter((k) => chosen.has(k));
}

async function runTasks(
  dir: string,
  log: RunLog,
): Promise<readonly Task[] | Error> {
  try {
    const manifest = await readRunManifest(dir, "rescore");
    const split = manifest.args?.split ?? log.graph.dataset.default_split;
    return (await loadTasks(log.graph.dataset, split)).tasks;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function budgetOf(
  limits: NonNullable<GraphCoach["budget"]>,
): JudgeBudget {
  return new JudgeBudget({
    ...(limits.max_usd !== undefined ? { max_usd: limits.max_usd } : {}),
    ...(limits.max_calls !== undefined ? { max_calls: limits.max_calls } : {}),
  });
}

/**
 * Rescores a run directory under `rubric`: loads its log, chooses actions (`roles`, then a deterministic
 * `sample`), and judges each action the rubric's layer does not hold yet, appending its verdict to
 * `scores/<rubric-name>@<rubric-hash>.jsonl`. Makes no agent calls; judge calls hit the cache first, so
 * rescoring an unchanged rubric is free, and a second rescore of the same version writes nothing new.
 *
 * @example
 * ```ts ignore
 * const result = await rescoreRun("runs/math__0__1767000000", {
 *   rubric: loadRubricFile("pipelines/rubrics/math.v2.yaml"), client, roles: ["solver"], sample: 50,
 * });
 * console.log(`${result.written} verdicts written to ${result.layer}`);
 * ```
 */
export async function rescoreRun(
  runDir: string,
  options: RescoreOptions,
): Promise<RescoreResult> {
  const { rubric } = options;
  let log = await RunLog.load(runDir);
  const coach = log.graph.coach;
  const llm = rubric.template !== undefined;
  const model = options.model ?? coach?.model;
  if (llm && (options.client === undefined || model === undefined)) {
    throw new TypeError(
      `Cannot rescore run ${runDir} with rubric "${rubric.name}": it has a template, so it needs a judge client${
        model === undefined ? " and a model (the run's spec has no coach)" : ""
      }`,
    );
  }
  let tasks: readonly Task[] | Error | undefined = options.tasks;
  if (tasks === undefined && llm) tasks = await runTasks(runDir, log);
  if (tasks instanceof Error) {
    throw new Error(
      `Cannot rescore run ${runDir} with rubric "${rubric.name}": its tasks cannot be loaded for the judge's prompts (${tasks.message}); run from the directory the run was started in, or pass tasks`,
      { cause: tasks },
    );
  }
  if (tasks !== undefined) log = await RunLog.load(runDir, { tasks });
  const roles = options.roles;
  for (const r of roles ?? []) log.role(r);
  let keys = log.actions().filter((k) =>
    roles === undefined || roles.includes(k.role)
  );
  if (options.sample !== undefined) {
    keys = sampleActions(keys, options.sample, options.seed ?? 0);
  }
  const budget = options.budget ??
    (coach?.budget ? budgetOf(coach.budget) : undefined);
  const shared: Omit<ScoreActionOptions, "outcome"> = {
    judge: options.judge ?? coach?.judge ?? DEFAULT_JUDGE,
    cache: options.cache ?? new JudgeCache(),
    ...(options.client ? { client: options.client } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(budget ? { budget } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    checkCache: options.checkCache ?? new CheckCache(),
  };
  const layer = await ScoreLayerWriter.open(runDir, rubric);
  const todo = keys.filter((k) => !layer.has(k));
  let written = 0, cached = 0, unscored = 0, calls = 0, cost = 0, next = 0;
  let failed = false;
  // Verdicts are appended in log order whatever order the judges answer in, so a layer is reproducible.
  const done: (Verdict | undefined)[] = [];
  let flushed = 0;
  const record = async (verdict: Verdict) => {
    // A judge call cut off by the stop is no verdict: the next rescore judges the action.
    if (options.signal?.aborted && verdict.status === "unscored") return;
    if (!(await layer.append(verdict))) return;
    written++;
    if (verdict.judge.cache_hit) cached++;
    else {
      calls += verdict.judge.attempts;
      cost += verdict.judge.cost_usd ?? 0;
    }
    if (verdict.status === "unscored") unscored++;
    options.onVerdict?.(verdict);
  };
  const worker = async () => {
    while (next < todo.length && !failed && !options.signal?.aborted) {
      const index = next++;
      const key = todo[index]!;
      const outcome = options.outcomeFor
        ? options.outcomeFor(key.episode_id)
        : outcomeFromLog(log, key.episode_id);
      try {
        done[index] = await scoreAction(log, key, rubric, {
          ...shared,
          runDir,
          ...(outcome ? { outcome } : {}),
        });
        const ready: Verdict[] = [];
        while (done[flushed] !== undefined) {
          ready.push(done[flushed]!);
          done[flushed++] = undefined;
        }
        await Promise.all(ready.map(record));
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, todo.length) }, worker),
  );
  await layer.close();
  const error = settled.find((s) => s.status === "rejected");
  if (error) throw error.reason;
  return {
    layer: layerName(rubric),
    path: layer.path,
    selected: keys.length,
    skipped: keys.length - todo.length,
    written,
    cached,
    unscored,
    judge_calls: calls,
    cost_usd: cost,
    interrupted: next < todo.length || options.signal?.aborted === true,
  };
}
