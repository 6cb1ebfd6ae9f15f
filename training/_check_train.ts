import type { ExecutionGraph, GraphTrain } from "../dsl/mod.ts";
import type { TrainDeps } from "./train_options.ts";

/** The settings a run trains with can work: roles to train, a coach or an outcome to reward them. */
export function checkTrain(
  graph: ExecutionGraph,
  train: GraphTrain,
  deps: TrainDeps,
): void {
  if (train.roles.length === 0) {
    throw new RangeError(
      `Cannot train pipeline "${graph.name}": no role is trainable; list roles under train.roles`,
    );
  }
  if (train.reward.outcome_weight < 1 && deps.coach === undefined) {
    throw new RangeError(
      `Cannot train pipeline "${graph.name}" on per-action rewards: no coach scores its actions (the spec has none, or its judge has no endpoint); give the coach an endpoint, or train on the outcome only with --outcome-weight 1`,
    );
  }
  if (train.reward.outcome_weight > 0 && graph.outcome === undefined) {
    throw new RangeError(
      `Cannot mix outcome rewards (outcome_weight ${train.reward.outcome_weight}) into pipeline "${graph.name}": it declares no outcome grader; set train.reward.outcome_weight: 0 or add an outcome`,
    );
  }
}
