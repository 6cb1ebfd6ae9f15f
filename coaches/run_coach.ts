import { join } from "node:path";
import type { ExecutionGraph, GraphRubric } from "../dsl/mod.ts";
import type { Coach, ModelClient, RunEvent, Sandbox } from "../runtime/mod.ts";
import { CheckCache } from "./check_cache.ts";
import { JudgeBudget } from "./judge_budget.ts";
import { JudgeCache } from "./judge_cache.ts";
import { type ActionKey, RunLog } from "../runtime/mod.ts";
import { scoreAction } from "./score_action.ts";
import { ScoreLayerWriter } from "./score_layer_writer.ts";
import { outcomeFromLog } from "./outcome_evidence.ts";
import type { OutcomeEvidence, Verdict } from "./types.ts";

/** Options for `RunCoach`. */
export interface RunCoachOptions {
  /** Answers judge requests; needed when a rubric has a template. */
  readonly client?: ModelClient;
  /**
   * Where judge verdicts are cached.
   * @default new JudgeCache() (.cache/judge)
   */
  readonly cache?: JudgeCache;
  /** Called with each verdict once it is written (progress). */
  readonly onVerdict?: (verdict: Verdict) => void;
  /** Runs the programs of `when: command` checks; without one such a check leaves its actions unscored. */
  readonly sandbox?: Sandbox;
  /**
   * Where command checks' decisions are kept.
   * @default new CheckCache() (.cache/checks)
   */
  readonly checkCache?: CheckCache;
}

/**
 * The inline coach (`coach.when: inline`): it follows the run's events and, as soon as a role finishes a
 * round (when the evidence of its actions is complete), scores each of those actions with the role's
 * rubric and appends the verdicts to the run's score layers. Deterministic rubrics need no judge.
 *
 * @example
 * ```ts ignore
 * const coach = new RunCoach(graph, { client });
 * await runPipeline(graph, { model, sandbox }, { policy: "model", coach });
 * ```
 */
export class RunCoach implements Coach {
  readonly #graph: ExecutionGraph;
  readonly #options: RunCoachOptions;
  readonly #writers = new Map<string, Promise<ScoreLayerWriter>>();
  readonly #pending = new Set<Promise<void>>();
  readonly #cache: JudgeCache;
  readonly #checkCache: CheckCache;
  readonly #budget: JudgeBudget;
  #log?: RunLog;
  #dir = "";
  #signal?: AbortSignal;

  constructor(graph: ExecutionGraph, options: RunCoachOptions = {}) {
    if (!graph.coach) {
      throw new TypeError(
        `Cannot coach pipeline "${graph.name}": its spec has no coach`,
      );
    }
    this.#graph = graph;
    this.#options = options;
    this.#cache = options.cache ?? new JudgeCache();
    this.#checkCache = options.checkCache ?? new CheckCache();
    const limits = graph.coach.budget;
    this.#budget = new JudgeBudget({
      ...(limits?.max_usd !== undefined ? { max_usd: limits.max_usd } : {}),
      ...(limits?.max_calls !== undefined
        ? { max_calls: limits.max_calls }
        : {}),
    });
  }

  /** Whether every rubric this run needs can be applied: template rubrics need a judge client. */
  static needsJudge(graph: ExecutionGraph): boolean {
    return Object.values(graph.coach?.rubrics ?? {}).some((r) =>
      r.template !== undefined
    );
  }

  /**
   * Opens the run. A resumed run's events are read first, and every action of an episode finished before
   * the stop that still has no final verdict (never judged, or its judge call failed or was cut off) is
   * scheduled for scoring now: events.jsonl is the durable "to judge" record, the score layers the "judged".
   */
  async start(
    run: {
      readonly dir: string;
      readonly run_id: string;
      readonly signal?: AbortSignal;
    },
  ): Promise<void> {
    this.#dir = run.dir;
    if (run.signal) this.#signal = run.signal;
    const resumed = await Deno.stat(join(run.dir, "events.jsonl")).then(
      (i) => i.size > 0,
      () => false,
    );
    if (!resumed) {
      this.#log = RunLog.fromGraph(this.#graph, run.run_id);
      return;
    }
    const log = await RunLog.load(run.dir);
    this.#log = log;
    for (const id of log.episodeIds()) {
      const events = log.episodeEvents(id);
      const done = events.findLast((e) => e.kind === "episode_finished");
      if (done?.kind !== "episode_finished") continue;
      for (const e of events) {
        if (
          (e.kind === "role_finished" && e.attempt === done.attempt) ||
          e === done
        ) this.#schedule(log, e);
      }
    }
  }

  observe(event: RunEvent): Promise<void> {
    const log = this.#log;
    if (!log) {
      return Promise.reject(
        new TypeError("Cannot observe events: RunCoach.start was not called"),
      );
    }
    log.add(event);
    return this.#schedule(log, event);
  }

  #schedule(log: RunLog, event: RunEvent): Promise<void> {
    // Roles whose coach sees the outcome are scored once the episode is over (the outcome exists only
    // then); the others as soon as their round is over, as in MAPPA.
    const work: Promise<void>[] = [];
    if (event.kind === "role_finished" && event.role !== null) {
      const role = this.#graph.roles.find((r) => r.id === event.role);
      if (
        role?.coached && role.rubric !== undefined && !role.coach_sees_outcome
      ) {
        const keys = attemptActions(log, event.episode_id, event.attempt)
          .filter((k) => k.role === event.role && k.round === event.round)
          .map(({ round: _, ...key }) => key);
        work.push(
          this.#score(
            log,
            keys,
            this.#graph.coach!.rubrics[role.rubric]!,
            undefined,
            false,
          ),
        );
      }
    } else if (event.kind === "episode_finished") {
      const outcome = outcomeFromLog(log, event.episode_id);
      const rejudge = this.#graph.coach!.rejudge_with_outcome;
      for (const role of this.#graph.roles) {
        if (!role.coached || role.rubric === undefined) continue;
        if (!role.coach_sees_outcome && !rejudge) continue;
        const keys = attemptActions(log, event.episode_id, event.attempt)
          .filter((k) => k.role === role.id)
          .map(({ round: _, ...key }) => key);
        const rubric = this.#graph.coach!.rubrics[role.rubric]!;
        if (role.coach_sees_outcome) {
          work.push(this.#score(log, keys, rubric, outcome, false));
        } // A first step toward MAPPA's "reward backpropagation": upstream roles judged again, knowing the
        // outcome, into a layer of their own beside the inline one.
        else {work.push(
            this.#score(
              log,
              keys,
              { ...rubric, name: `${rubric.name}_rejudged` },
              outcome,
              true,
            ),
          );}
      }
    }
    if (work.length === 0) return Promise.resolve();
    const all = Promise.all(work).then(() => {});
    this.#pending.add(all);
    return all.finally(() => this.#pending.delete(all));
  }

  async #score(
    log: RunLog,
    keys: readonly ActionKey[],
    rubric: GraphRubric,
    outcome: OutcomeEvidence | undefined,
    reveal: boolean,
  ): Promise<void> {
    const writer = await this.#writer(rubric);
    for (const key of keys) {
      if (writer.has(key) || this.#signal?.aborted) continue;
      const verdict = await scoreAction(log, key, rubric, {
        judge: this.#graph.coach!.judge,
        model: this.#graph.coach!.model,
        cache: this.#cache,
        budget: this.#budget,
        runDir: this.#dir,
        checkCache: this.#checkCache,
        ...(this.#options.sandbox ? { sandbox: this.#options.sandbox } : {}),
        ...(outcome ? { outcome } : {}),
        ...(reveal ? { revealOutcome: true } : {}),
        ...(this.#signal ? { signal: this.#signal } : {}),
        ...(this.#options.client ? { client: this.#options.client } : {}),
      });
      // A judge call cut off by the stop is no verdict: the action stays open, and --resume judges it.
      if (this.#signal?.aborted && verdict.status === "unscored") continue;
      if (await writer.append(verdict)) this.#options.onVerdict?.(verdict);
    }
  }

  #writer(rubric: GraphRubric): Promise<ScoreLayerWriter> {
    let w = this.#writers.get(`${rubric.name}@${rubric.hash}`);
    if (!w) {
      w = ScoreLayerWriter.open(this.#dir, rubric);
      this.#writers.set(`${rubric.name}@${rubric.hash}`, w);
    }
    return w;
  }

  async finish(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    for (const w of this.#writers.values()) await (await w).close();
  }
}

/** The actions of one episode attempt, read from that episode only: scanning the whole log per event was quadratic in the run. */
function attemptActions(
  log: RunLog,
  episodeId: string,
  attempt: number,
): (ActionKey & { round: number })[] {
  // A model call that failed is no reply of the agent's: it is never judged (no verdict, its sample masked).
  return log.episodeEvents(episodeId).flatMap((e) =>
    e.kind === "action" && e.attempt === attempt && e.model_call.ok
      ? [{
        episode_id: episodeId,
        attempt,
        action_index: e.action_index,
        role: e.role ?? "",
        round: e.round,
      }]
      : []
  );
}
