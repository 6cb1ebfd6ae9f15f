// deno-lint-ignore-file no-console -- the CLI is the one place that prints (STYLE.md §9)
import type { ExecutionGraph } from "../dsl/mod.ts";
import { wholeNumber } from "./_args.ts";
import type { CommandValues, EPISODE_OPTIONS } from "./command.ts";
import {
  type CliDeps,
  prepareDeps,
  type PrepareDepsOptions,
} from "./preset.ts";

/** What `run` and `train` say of themselves beside their episode options. */
type EpisodeCommand = Pick<
  PrepareDepsOptions,
  "command" | "noCoach" | "forceCoach" | "servedRoles"
>;

/**
 * The ports of `run` or `train` for `spec` (cli/preset.ts), built from the episode options: the
 * unsafe-sandbox warning printed; or, when they cannot be built, the exit code after printing why.
 */
export async function episodeDeps(
  graph: ExecutionGraph,
  spec: string,
  values: CommandValues<typeof EPISODE_OPTIONS>,
  command: EpisodeCommand,
): Promise<CliDeps | number> {
  const uidBase = wholeNumber("sandbox-uid-base", values["sandbox-uid-base"]);
  const prepared = await prepareDeps(graph, {
    ...command,
    spec,
    unsafeNoSandbox: values["unsafe-no-sandbox"],
    ...(uidBase !== undefined ? { uidBase } : {}),
  });
  if (!prepared.ok) {
    console.error(`mappa: ${prepared.message}`);
    return prepared.code;
  }
  if (prepared.deps.warning) console.error(`mappa: ${prepared.deps.warning}`);
  return prepared.deps;
}

/**
 * The `environment` a run or training run records: mappa's and Deno's versions, the sandbox, what
 * the command adds (`more`), and the outcome judge when there is one.
 */
export function episodeEnvironment(
  deps: CliDeps,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    mappa: "0.1.0",
    deno: Deno.version.deno,
    sandbox: deps.sandbox.backend,
    ...more,
    ...(deps.outcomeJudge ? { outcome_judge: deps.outcomeJudge.note } : {}),
  };
}
