import { didYouMean } from "../_levenshtein.ts";
import type { RuleContext } from "../rule_context.ts";

/**
 * Split names used by `default_split`, `exclude_overlap_with` and `train` are declared under `dataset.splits`.
 * See README.md#dataset.
 */
export function unknownSplits(ctx: RuleContext): void {
  const names = Object.keys(ctx.spec.dataset.splits);
  const check = (name: string, path: (string | number)[], where: string) => {
    if (Object.hasOwn(ctx.spec.dataset.splits, name)) return;
    ctx.report({
      code: "unknown_split",
      path,
      message:
        `Cannot resolve split "${name}" in ${where}: dataset.splits has no such split`,
      hint: didYouMean(name, names, "split") ??
        `declare it under dataset.splits: ${name}: path/to/file.jsonl`,
    });
  };
  const ds = ctx.spec.dataset;
  if (ds.default_split !== undefined) {
    check(
      ds.default_split,
      ["dataset", "default_split"],
      "dataset.default_split",
    );
  }
  for (const [name, split] of Object.entries(ds.splits)) {
    if (typeof split === "string") continue;
    split.exclude_overlap_with.forEach((s, j) =>
      check(
        s,
        ["dataset", "splits", name, "exclude_overlap_with", j],
        `the exclude_overlap_with of split "${name}"`,
      )
    );
  }
  const train = ctx.spec.train;
  if (train) {
    // train.split has a default ("train"): only check it when the spec trains.
    const explicit = ctx.locate(["train", "split"]) !== ctx.locate(["train"]);
    if (explicit || Object.hasOwn(ctx.spec.dataset.splits, train.split)) {
      check(train.split, ["train", "split"], "train.split");
    } else {
      ctx.report({
        code: "unknown_split",
        path: ["train"],
        onKey: true,
        message:
          `Cannot resolve split "${train.split}", the default of train.split: dataset.splits has no such split`,
        hint: `name the split to train on: train: { split: ${
          Object.keys(ctx.spec.dataset.splits)[0] ?? "eval"
        } }`,
      });
    }
    train.eval.splits.forEach((s, j) =>
      check(s, ["train", "eval", "splits", j], "train.eval.splits")
    );
  }
}
