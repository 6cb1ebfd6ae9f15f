import type { Outcome } from "../../dsl/mod.ts";
import { exactMatchGrader, regexGrader } from "./answer_graders.ts";
import type { Grader } from "./grade.ts";

/** The built-in graders by spec name (`outcome.grader`). */
export const GRADERS: Partial<Record<Outcome["grader"], Grader>> = {
  exact_match: exactMatchGrader,
  regex: regexGrader,
};
