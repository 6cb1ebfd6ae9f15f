// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import { specArg } from "./_args.ts";
import type { Command, CommandValues } from "./command.ts";
import { UsageError } from "./exit_codes.ts";

const OPTIONS = {
  bias: { type: "boolean", default: false },
  against: { type: "string" },
} as const;

/** `report <run>`: writes runs/<id>/report.html (a training run's: its curves). */
export const REPORT: Command<typeof OPTIONS> = {
  name: "report",
  synopsis: ["<run> [--bias] [--against RUN]"],
  description: [
    "write runs/<id>/report.html (a training run: its curves,",
    "--against another training run to overlay)",
  ],
  options: OPTIONS,
  run: report,
};

async function report(
  values: CommandValues<typeof OPTIONS>,
  positionals: string[],
): Promise<number> {
  const dir = specArg(positionals, "report");
  const isTraining = await Deno.stat(`${dir}/train.json`).then(
    () => true,
    () => false,
  );
  if (!isTraining && values.against !== undefined) {
    throw new UsageError(
      `Cannot compare ${dir} --against ${values.against}: --against compares two training runs, and ${dir} has no train.json`,
    );
  }
  // report/ (plots: Observable Plot with a DOM) is loaded only by the commands that need it.
  const { writeReport, writeTrainingReport } = await import(
    "../report/mod.ts"
  );
  const path = isTraining
    ? await writeTrainingReport(dir, {
      ...(values.against !== undefined ? { against: values.against } : {}),
    })
    : await writeReport(dir, { bias: values.bias });
  console.log(`wrote ${path}`);
  return 0;
}
