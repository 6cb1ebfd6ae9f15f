import type { ExecLimits } from "../ports.ts";
import { graderPayload, outcomeFor, ownCompiled } from "./_grader_input.ts";
import { declaredResultSchema, gradeOfResult } from "./_declared_result.ts";
import type { Grader } from "./grade.ts";
import { runJsonProgram } from "./json_program.ts";
import { UngradedError } from "./ungraded_error.ts";

/**
 * The sandbox limits of a command grader's program, from its `params`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandLimits } from "./command_grader.ts";
 * const limits = commandLimits({ timeout_s: 60, memory_mb: 2048, max_processes: 64, output_cap_bytes: 65536 });
 * assert.equal(limits.wall_ms, 60_000);
 * ```
 */
export function commandLimits(params: {
  readonly timeout_s: number;
  readonly memory_mb: number;
  readonly max_processes: number;
  readonly output_cap_bytes: number;
}): ExecLimits {
  return {
    wall_ms: Math.round(params.timeout_s * 1000),
    cpu_s: Math.max(1, Math.ceil(params.timeout_s)),
    memory_mb: params.memory_mb,
    output_cap_bytes: params.output_cap_bytes,
    kill_output_bytes: Math.max(4 * params.output_cap_bytes, 16 << 20),
    file_size_mb: 64,
    nproc: params.max_processes,
  };
}

/**
 * `grader: command`: runs the spec's program in the sandbox with the task, the expected answer and the
 * outputs as JSON on its stdin (never in a file the code it runs could open), a read-only snapshot copy
 * of the workspace at /workspace, and checks that it prints `{"metrics": {...}, "valid"?, "reason"?,
 * "summary"?, "answer"?}` with exactly the declared metrics, each a finite number within its range. A
 * program that crashes, times out or prints anything else leaves the episode ungraded (`UngradedError`:
 * `grader_error`, `grader_timeout`, `grader_invalid_output`), its message naming the program file, what was
 * wrong and the stderr tail; `valid: false` is the agents' failure, graded at the spec's fair values.
 */
export const commandGrader: Grader = async (input) => {
  const outcome = outcomeFor(input, "command");
  const program = ownCompiled(
    outcome.programs,
    "the command grader has no compiled program (graph built without the compiler)",
  );
  const sandbox = input.sandbox;
  if (sandbox === undefined) {
    throw new UngradedError(
      "grader_missing",
      `no sandbox was given to grading, so ${program.source} cannot run`,
    );
  }
  const run = (slot: number) =>
    runJsonProgram({
      sandbox,
      program,
      input: graderPayload(input),
      workspace: input.workspace,
      limits: commandLimits(outcome.params),
      outputSchema: declaredResultSchema(outcome.params.metrics),
      slot,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  const r = input.withSlot ? await input.withSlot(run) : await run(0);
  if (!r.ok) {
    throw new UngradedError(
      r.failure === "timed_out"
        ? "grader_timeout"
        : r.failure === "invalid_json" || r.failure === "invalid_output"
        ? "grader_invalid_output"
        : "grader_error",
      r.message,
    );
  }
  return gradeOfResult(
    r.value as Parameters<typeof gradeOfResult>[0],
    outcome,
    input,
  );
};
