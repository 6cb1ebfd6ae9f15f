import type { Outcome } from "../../dsl/mod.ts";
import { exactMatchGrader, regexGrader } from "./answer_graders.ts";
import type { Grader } from "./grade.ts";
import { mathEquivalenceGrader } from "./math_equivalence.ts";
import { tabularMetricGrader } from "./tabular_metric.ts";

/** The built-in graders by spec name (`outcome.grader`). */
export const GRADERS: Partial<Record<Outcome["grader"], Grader>> = {
  exact_match: exactMatchGrader,
  math_equivalence: mathEquivalenceGrader,
  regex: regexGrader,
  tabular_metric: tabularMetricGrader,
};
