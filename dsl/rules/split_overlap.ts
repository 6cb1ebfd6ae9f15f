import type { RuleContext } from "../rule_context.ts";
import type { Dataset } from "../schema.ts";

function pathOf(
  split: Dataset["splits"][string] | undefined,
): string | undefined {
  return typeof split === "string" ? split : split?.path;
}

/**
 * Training is evaluated on other rows than it trains on: a warning when `train.eval.splits` names the
 * train split, or a split read from the same file. See README.md#training.
 */
export function splitOverlap(ctx: RuleContext): void {
  const train = ctx.spec.train;
  if (!train) return;
  const splits = ctx.spec.dataset.splits;
  if (!Object.hasOwn(splits, train.split)) return;
  const trainPath = pathOf(splits[train.split]);
  train.eval.splits.forEach((name, i) => {
    if (!Object.hasOwn(splits, name)) return;
    const same = name === train.split;
    if (!same && pathOf(splits[name]) !== trainPath) return;
    ctx.report({
      code: "split_overlap",
      severity: "warning",
      path: ["train", "eval", "splits", i],
      message: same
        ? `Cannot evaluate on split "${name}" apart from training: it is the train split`
        : `Cannot evaluate on split "${name}" apart from training: it reads the same file as the train split "${train.split}"`,
      related: [{
        path: ["dataset", "splits", train.split],
        message: `the train split "${train.split}" is declared here`,
      }],
      hint: "evaluate on a held-out split, or add exclude_overlap_with to it",
    });
  });
}
