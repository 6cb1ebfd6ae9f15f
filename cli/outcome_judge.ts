import { dirname } from "node:path";
import type { ExecutionGraph } from "../dsl/mod.ts";
import { outcomeJudgeUses } from "../dsl/mod.ts";
import type { Grader } from "../runtime/mod.ts";
import type { ModelClient } from "../runtime/mod.ts";
import {
  DemoJudgeClient,
  JudgeCache,
  outcomeJudgeGrader,
  type OutcomeJudgement,
  outcomeRubric,
} from "../coaches/mod.ts";

/** The outcome judge of a run as the CLI wires it: the grader by kind, what to say, where judgements go. */
export interface OutcomeJudgeSetup {
  /** `{ llm_judge: grader }`, for `runPipeline`'s and `gradeEpisode`'s `graders`. */
  readonly graders: Readonly<Record<string, Grader>>;
  /** One line for stderr and the manifest: who judges, or why nobody can. */
  readonly note: string;
  /** True when the demo judge answers: scripted verdicts, labelled. */
  readonly demo: boolean;
  /** Appends every judgement (buffered until then) to this JSONL file, e.g. `<run>/outcome_judge.jsonl`. */
  logTo(file: string): void;
  /** Resolves once every judgement so far is written. */
  flush(): Promise<void>;
}

/** Options of {@linkcode prepareOutcomeJudge}. */
export interface PrepareOutcomeJudgeOptions {
  /** The run's model client (a `ModelRouter`). */
  readonly client: ModelClient;
  /** Whether a judge model without endpoint gets the demo judge (the offline demo, never training). */
  readonly demoAllowed: boolean;
  /** @default new JudgeCache() (.cache/judge, the coach's) */
  readonly cache?: JudgeCache;
}

/**
 * Wires the `llm_judge` outcome grader of a graph, or returns undefined when its outcome is another kind.
 * A judge model with an endpoint judges; without one, the demo judge answers when `demoAllowed` (labelled
 * in the note and in every grade), else every episode is ungraded with the reason until the model has
 * an endpoint and the run is resumed.
 *
 * @example
 * ```ts ignore
 * const judge = prepareOutcomeJudge(graph, { client: router, demoAllowed: false });
 * await runPipeline(graph, { model: router, sandbox, graders: judge?.graders }, {
 *   onStart: (info) => judge?.logTo(`${info.runDir}/outcome_judge.jsonl`),
 * });
 * ```
 */
export function prepareOutcomeJudge(
  graph: ExecutionGraph,
  options: PrepareOutcomeJudgeOptions,
): OutcomeJudgeSetup | undefined {
  const judges = outcomeJudgeUses(graph.outcome).map((u) => u.judge.params);
  if (judges.length === 0) return undefined;
  const demoModels = new Set<string>();
  let client = options.client;
  const notes: string[] = [];
  for (const params of judges) {
    const key = params.model;
    const model = graph.models[key]!;
    const configured = model.provider === "scripted"
      ? model.script !== undefined
      : (model.base_url ?? "") !== "";
    const rubric = outcomeRubric(params);
    if (!configured && options.demoAllowed) {
      if (!demoModels.has(key)) client = new DemoJudgeClient(client, key);
      demoModels.add(key);
      notes.push(
        `outcome: demo judge (scripted verdicts, labelled as such, not a model's): models.${key} has no endpoint; set its base_url to have a model judge`,
      );
    } else {
      notes.push(
        configured && model.provider === "scripted"
          ? `outcome: judged by the scripted replies of models.${key} (${model.script}), not a model's`
          : configured
          ? `outcome: judged by models.${key} (${model.model}) with rubric "${rubric.name}" on ${rubric.scale.min} to ${rubric.scale.max}`
          : `outcome: models.${key} has no endpoint: episodes stay ungraded until it has one; set its base_url, then grade them with --resume`,
      );
    }
  }
  const note = [...new Set(notes)].join("\n");
  const demo = demoModels.size > 0;
  let file: string | undefined;
  const pending: OutcomeJudgement[] = [];
  let writing = Promise.resolve();
  const write = () => {
    if (file === undefined || pending.length === 0) return writing;
    const lines = pending.splice(0).map((j) => JSON.stringify(j) + "\n")
      .join("");
    const target = file;
    writing = writing.then(async () => {
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeTextFile(target, lines, { append: true });
    }).catch(() => {
      // A log that cannot be written loses its lines, never a grade.
    });
    return writing;
  };
  const grader = outcomeJudgeGrader({
    client,
    demoModels,
    cache: options.cache ?? new JudgeCache(),
    onJudgement: (j) => {
      pending.push(j);
      return write();
    },
  });
  return {
    graders: { llm_judge: grader },
    note,
    demo,
    logTo(target: string) {
      file = target;
      void write();
    },
    flush: () => write(),
  };
}
