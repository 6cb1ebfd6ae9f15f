import { type GraphRubric, sha256Hex } from "../dsl/mod.ts";
import { runJsonProgram } from "../runtime/mod.ts";
import type { ExecLimits, Sandbox } from "../runtime/mod.ts";
import {
  type CheckCache,
  type CheckDecision,
  CheckDecisionSchema,
} from "./check_cache.ts";
import { restoreWorkspace, workspaceAfter } from "../runtime/mod.ts";
import { DETERMINISTIC_JUDGE } from "./deterministic_judge.ts";
import type { ActionKey, RunLog } from "../runtime/mod.ts";
import { type Evidence, type Verdict, verdictSubject } from "./types.ts";

/** The sandbox slot check programs run in (uid `uidBase + 64`), apart from the run's own slots. */
export const CHECK_SLOT = 64;

/** What a check program must print. */
export const CHECK_OUTPUT_SCHEMA = {
  type: "object",
  properties: {
    fires: { type: "boolean" },
    note: { type: "string", maxLength: 2000 },
  },
  required: ["fires"],
  additionalProperties: false,
} as const;

type CommandCheck = GraphRubric["checks"][number];

/** Options of {@linkcode decideCommandChecks}. */
export interface DecideCommandChecksOptions {
  /** Runs the programs; without one a rubric with command checks cannot decide. */
  readonly sandbox?: Sandbox | undefined;
  /** The run's log and the action's key: the workspace after the action is rebuilt from them. */
  readonly log: RunLog;
  readonly key: ActionKey;
  /** The run directory, whose blobs/ hold the files' content; without it a command check cannot decide. */
  readonly runDir?: string | undefined;
  /** Where decisions are kept. @default no cache */
  readonly cache?: CheckCache | undefined;
  /** @default CHECK_SLOT */
  readonly slot?: number;
  readonly signal?: AbortSignal | undefined;
}

/** Each command check's decision by check id, or the first check that could not decide and why. */
export type CommandCheckResult =
  | {
    readonly ok: true;
    readonly decisions: ReadonlyMap<string, CheckDecision>;
  }
  | { readonly ok: false; readonly check: string; readonly message: string };

/** The resolved limits of a command check: its keys, else the defaults documented in the schema. */
export function commandCheckLimits(check: CommandCheck): ExecLimits {
  const timeout = check.timeout_s ?? 20;
  return {
    wall_ms: Math.round(timeout * 1000),
    cpu_s: Math.max(1, Math.ceil(timeout)),
    memory_mb: check.memory_mb ?? 1024,
    output_cap_bytes: 65_536,
    kill_output_bytes: 1 << 20,
    file_size_mb: 16,
    nproc: check.max_processes ?? 64,
  };
}

// One check program at a time per sandbox: they share one slot (one uid), whose kill waits for the uid.
const queues = new WeakMap<Sandbox, Promise<unknown>>();
function serially<T>(sandbox: Sandbox, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(sandbox) ?? Promise.resolve()).then(fn, fn);
  queues.set(sandbox, run.catch(() => {}));
  return run;
}

/**
 * Runs the rubric's `when: command` checks that apply to the action's role, each in the sandbox through
 * `runJsonProgram`: the evidence as JSON on stdin, the workspace as it stood after the action rebuilt
 * from the run's blobs and shown read-only at /workspace, and `{"fires": bool, "note"?: string}` expected
 * on stdout. Decisions are cached by (program, limits, evidence, file hashes). A program that crashes,
 * times out or prints anything else, a missing sandbox or a file that cannot be restored is no decision:
 * the result names the check, and the caller leaves the action unscored (DESIGN.md decision 11).
 *
 * @example
 * ```ts ignore
 * const result = await decideCommandChecks(rubric, evidence, { sandbox, log, key, runDir });
 * if (result.ok) applyChecks(rubric, evidence, raw, result.decisions);
 * ```
 */
export async function decideCommandChecks(
  rubric: GraphRubric,
  evidence: Evidence,
  options: DecideCommandChecksOptions,
): Promise<CommandCheckResult> {
  const role = evidence.role.id;
  const checks = rubric.checks.filter((c) =>
    c.when === "command" && (c.roles === undefined || c.roles.includes(role))
  );
  const decisions = new Map<string, CheckDecision>();
  if (checks.length === 0) return { ok: true, decisions };
  const files = workspaceAfter(options.log, options.key);
  const inputHash = sha256Hex(JSON.stringify([evidence, [...files]]));
  const keyOf = (c: CommandCheck) =>
    sha256Hex(JSON.stringify([
      "mappa-check-v1",
      c.language ?? null,
      c.script ?? c.code ?? "",
      commandCheckLimits(c),
      inputHash,
    ]));
  let workspace: string | undefined;
  try {
    for (const c of checks) {
      const key = keyOf(c);
      const cached = await options.cache?.get(key);
      if (cached) {
        decisions.set(c.id, cached);
        continue;
      }
      const failed = (message: string) => ({
        ok: false as const,
        check: c.id,
        message: `check "${c.id}" could not decide${message}`,
      });
      if (options.sandbox === undefined) {
        return failed(
          ": no sandbox was given to run its program (pass one to the coach or rescore)",
        );
      }
      if (c.language === undefined) {
        return failed(
          ": its program has no language (compile the rubric first)",
        );
      }
      if (options.runDir === undefined) {
        return failed(": no run directory was given to restore its files from");
      }
      if (workspace === undefined) {
        workspace = await Deno.makeTempDir({ prefix: "mappa-check-" });
        const restored = await restoreWorkspace(
          options.runDir,
          files,
          workspace,
        );
        if (restored.skipped.length > 0) {
          return failed(
            `: the action's files could not all be restored: ${
              restored.skipped.slice(0, 3).join(", ")
            }`,
          );
        }
      }
      const sandbox = options.sandbox;
      const dir = workspace;
      const result = await serially(sandbox, () =>
        runJsonProgram({
          sandbox,
          program: {
            language: c.language!,
            code: c.script ?? c.code ?? "",
            source: "its program",
          },
          input: evidence,
          workspace: dir,
          limits: commandCheckLimits(c),
          outputSchema: CHECK_OUTPUT_SCHEMA,
          slot: options.slot ?? CHECK_SLOT,
          ...(options.signal ? { signal: options.signal } : {}),
        }));
      if (!result.ok) return failed(` (${result.failure}): ${result.message}`);
      const decision = CheckDecisionSchema.parse(result.value);
      decisions.set(c.id, decision);
      // A cache that cannot be written only costs a rerun next time.
      await options.cache?.set(key, decision).catch(() => {});
    }
  } finally {
    if (workspace !== undefined) {
      await Deno.remove(workspace, { recursive: true }).catch(() => {});
    }
  }
  return { ok: true, decisions };
}

/**
 * The verdict on an action one of whose command checks could not decide: unscored (`check_failed`, masked
 * from rewards, retried by the next rescore), the check and its failure first in the reasoning; `judged`
 * is the judge's verdict, kept for its record, absent for a deterministic rubric.
 *
 * @example
 * ```ts ignore
 * const verdict = checkFailedVerdict(evidence, rubric, 'check "c" could not decide (timed_out): …');
 * ```
 */
export function checkFailedVerdict(
  evidence: Evidence,
  rubric: GraphRubric,
  message: string,
  judged?: Verdict,
): Verdict {
  const base: Verdict = judged ?? {
    ...verdictSubject(evidence, rubric),
    status: "unscored",
    raw_score: rubric.default_score ?? null,
    score: null,
    reasoning: "",
    blame: null,
    applied: [],
    judge: { ...DETERMINISTIC_JUDGE, raw: [] },
    ts: new Date().toISOString(),
  };
  return {
    ...base,
    status: "unscored",
    score: null,
    reason: "check_failed",
    reasoning: base.reasoning === ""
      ? `Unscored: ${message}.`
      : `Unscored: ${message}. The judge said: ${base.reasoning}`,
    applied: [],
  };
}
