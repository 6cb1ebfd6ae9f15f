import type { Rule } from "./rule_context.ts";
import { capBands } from "./rules/cap_bands.ts";
import { capsNeedOutcome } from "./rules/caps_need_outcome.ts";
import { commandChecks } from "./rules/command_checks.ts";
import { conflictingValues } from "./rules/conflicting_values.ts";
import { datasetFiles } from "./rules/dataset_files.ts";
import { demoScript } from "./rules/demo_script.ts";
import { duplicateIds } from "./rules/duplicate_ids.ts";
import { flowCycle } from "./rules/flow_cycle.ts";
import { handoffUpstream } from "./rules/handoff_upstream.ts";
import { knownMetrics } from "./rules/known_metrics.ts";
import { outcomeGraders } from "./rules/outcome_graders.ts";
import { rolloutEngine } from "./rules/rollout_engine.ts";
import { scoresInScale } from "./rules/scores_in_scale.ts";
import { selfPreference } from "./rules/self_preference.ts";
import { splitOverlap } from "./rules/split_overlap.ts";
import { templateVariables } from "./rules/template_variables.ts";
import { trainableConflict } from "./rules/trainable_conflict.ts";
import { unboundedLoops } from "./rules/unbounded_loops.ts";
import { unknownModels } from "./rules/unknown_models.ts";
import { unknownOutputs } from "./rules/unknown_outputs.ts";
import { unknownRoles } from "./rules/unknown_roles.ts";
import { unknownSplits } from "./rules/unknown_splits.ts";
import { unknownTools } from "./rules/unknown_tools.ts";
import { unproducedInputs } from "./rules/unproduced_inputs.ts";
import { unreachableRoles } from "./rules/unreachable_roles.ts";
import { validJsonSchemas } from "./rules/valid_json_schemas.ts";
import { validLoops } from "./rules/valid_loops.ts";
import { validRegexes } from "./rules/valid_regexes.ts";

/**
 * The semantic rules, run in this order on a spec whose shape is valid; docs/diagnostics.md#rules says
 * what each checks.
 */
export const RULES: readonly Rule[] = [
  duplicateIds,
  unknownRoles,
  unknownModels,
  unknownTools,
  unknownSplits,
  flowCycle,
  unreachableRoles,
  unboundedLoops,
  validLoops,
  handoffUpstream,
  unproducedInputs,
  unknownOutputs,
  templateVariables,
  capsNeedOutcome,
  outcomeGraders,
  knownMetrics,
  validRegexes,
  commandChecks,
  validJsonSchemas,
  scoresInScale,
  capBands,
  trainableConflict,
  rolloutEngine,
  datasetFiles,
  demoScript,
  selfPreference,
  conflictingValues,
  splitOverlap,
];
