import { join } from "node:path";
import type { GraphCoach, GraphRubric } from "../dsl/mod.ts";
import {
  type ActionKey,
  type ModelClient,
  type RunLog,
  type Sandbox,
  writeFileAtomic,
} from "../runtime/mod.ts";
import { applyChecks } from "./apply_checks.ts";
import type { CheckCache } from "./check_cache.ts";
import { checkFailedVerdict, decideCommandChecks } from "./command_check.ts";
import { judgeDeterministically } from "./deterministic_judge.ts";
import { buildEvidence } from "./evidence.ts";
import type { JudgeBudget } from "./judge_budget.ts";
import type { JudgeCache } from "./judge_cache.ts";
import { judgeAction } from "./llm_judge.ts";
import { renderJudgePrompt } from "./render_judge_prompt.ts";
import type { OutcomeEvidence, Verdict } from "./types.ts";

/** Options of `scoreAction`: what the inline coach and `rescoreRun` pass for each action. */
export interface ScoreActionOptions {
  readonly client?: ModelClient;
  readonly model?: string;
  readonly judge: GraphCoach["judge"];
  readonly cache?: JudgeCache;
  readonly budget?: JudgeBudget;
  readonly outcome?: OutcomeEvidence;
  /** Show the outcome to this role's judge although it lacks coach_sees_outcome (a re-judgement). */
  readonly revealOutcome?: boolean;
  readonly signal?: AbortSignal;
  /** The run directory: the rendered judge prompt is kept in its blobs/, under the verdict's prompt_sha256. */
  readonly runDir?: string;
  /** Runs the programs of `when: command` checks; without one such a check leaves the action unscored. */
  readonly sandbox?: Sandbox;
  /** Where command checks' decisions are kept. @default none */
  readonly checkCache?: CheckCache;
}

/** Keeps a rendered judge prompt in the run's content-addressed blobs (STYLE.md §6: verdicts keep their prompt). */
async function recordPrompt(
  runDir: string,
  prompt: { text: string; sha256: string },
): Promise<void> {
  const dir = join(runDir, "blobs", prompt.sha256.slice(0, 2));
  const path = join(dir, prompt.sha256);
  if (await Deno.lstat(path).then(() => true, () => false)) return;
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(path, prompt.text);
}

/**
 * One action's verdict under a rubric: evidence from the log, then the deterministic judge when the rubric
 * has no template, else the LLM judge followed by the rubric's checks and caps on its raw score.
 *
 * @example
 * ```ts ignore
 * const log = await RunLog.load("runs/dsbench__42__1767000000");
 * const verdict = await scoreAction(log, log.actions()[0]!, loadRubricFile("rubrics/offline.yaml"), {
 *   judge: { temperature: 0, seed: 0, max_retries: 2, structured_output: true },
 * });
 * ```
 */
export async function scoreAction(
  log: RunLog,
  key: ActionKey,
  rubric: GraphRubric,
  options: ScoreActionOptions,
): Promise<Verdict> {
  const evidence = buildEvidence(log, key, {
    rubric,
    ...(options.outcome ? { outcome: options.outcome } : {}),
    ...(options.revealOutcome ? { revealOutcome: true } : {}),
  });
  const decide = () =>
    decideCommandChecks(rubric, evidence, {
      log,
      key,
      runDir: options.runDir,
      sandbox: options.sandbox,
      cache: options.checkCache,
      signal: options.signal,
    });
  if (rubric.template === undefined) {
    const checked = await decide();
    return checked.ok
      ? judgeDeterministically(rubric, evidence, {
        commands: checked.decisions,
      })
      : checkFailedVerdict(evidence, rubric, checked.message);
  }
  if (options.client === undefined || options.model === undefined) {
    throw new TypeError(
      `Cannot judge with rubric "${rubric.name}": it has a template, so it needs a judge client and model`,
    );
  }
  if (options.runDir !== undefined) {
    await recordPrompt(options.runDir, renderJudgePrompt(evidence, rubric));
  }
  const verdict = await judgeAction(evidence, rubric, {
    client: options.client,
    model: options.model,
    judge: options.judge,
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (verdict.status !== "scored" || verdict.raw_score === null) return verdict;
  const checked = await decide();
  if (!checked.ok) {
    return checkFailedVerdict(evidence, rubric, checked.message, verdict);
  }
  const { score, applied } = applyChecks(
    rubric,
    evidence,
    verdict.raw_score,
    checked.decisions,
  );
  return { ...verdict, score, applied: [...applied] };
}
