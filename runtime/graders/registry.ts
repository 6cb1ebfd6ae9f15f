import type { Outcome } from "../../dsl/mod.ts";
import { exactMatchGrader, regexGrader } from "./answer_graders.ts";
import { commandGrader } from "./command_grader.ts";
import { compositeGrader } from "./composite_grader.ts";
import { functionGrader } from "./function_grader.ts";
import type { Grader } from "./grade.ts";
import { mathEquivalenceGrader } from "./math_equivalence.ts";
import { tabularMetricGrader } from "./tabular_metric.ts";

/**
 * The built-in graders by spec name (`outcome.grader`). Kinds implemented outside the runtime (e.g.
 * `llm_judge`, in coaches/) are passed to `gradeEpisode` through its `graders` option, and a composite's
 * components find them there too.
 */
export const GRADERS: Partial<Record<Outcome["grader"], Grader>> = {
  exact_match: exactMatchGrader,
  math_equivalence: mathEquivalenceGrader,
  regex: regexGrader,
  tabular_metric: tabularMetricGrader,
  command: commandGrader,
  function: functionGrader,
  composite: compositeGrader,
};
