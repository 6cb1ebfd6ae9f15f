// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { CMD, type Command, type CommandValues } from "./command.ts";
import { UsageError } from "./exit_codes.ts";

const OPTIONS = {
  threshold: { type: "string", default: "5" },
  format: { type: "string", default: "text" },
} as const;

/** `compare <run> <layerA> <layerB>`: compares two score layers of a run. */
export const COMPARE: Command<typeof OPTIONS> = {
  name: "compare",
  synopsis: ["<run> <layerA> <layerB> [--threshold T] [--format text|json]"],
  description: ["compare two score layers of a run"],
  options: OPTIONS,
  run: compare,
};

async function compare(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  if (positionals.length !== 3) {
    throw new UsageError(
      `Cannot compare: usage: ${CMD} compare <run> <layerA> <layerB> [--threshold T] [--format json]`,
    );
  }
  const [dir, a, b] = positionals as [string, string, string];
  const threshold = Number(values.threshold);
  if (!Number.isFinite(threshold)) {
    throw new UsageError(
      `Cannot use --threshold "${values.threshold}": expected a number`,
    );
  }
  // report/ (plots: Observable Plot with a DOM) is loaded only by the commands that need it.
  const { compareRun, formatComparison } = await import("../report/mod.ts");
  const result = await compareRun(dir, a, b, { threshold });
  if (values.format === "json") console.log(JSON.stringify(result, null, 2));
  else console.log(formatComparison(result));
  return 0;
}
