import type { GraderFunctionResult } from "../../dsl/mod.ts";
import { copyWorkspace } from "./_workspace_copy.ts";
import { graderPayload, outcomeFor, ownCompiled } from "./_grader_input.ts";
import { checkDeclaredResult, gradeOfResult } from "./_declared_result.ts";
import type { Grader } from "./grade.ts";
import { UngradedError } from "./ungraded_error.ts";

/** Most characters of a function grader's result as JSON (a command grader's stdout has its cap). */
const MAX_RESULT_CHARS = 1 << 20;

/**
 * `grader: function` (TypeScript specs): calls the spec's own function in-process with the task, the
 * expected answer, the outputs and a snapshot copy of the workspace (no symlinks), and checks what it
 * returns exactly like a command grader's output. A throw, a missing function or a result that is not the
 * declared metrics leaves the episode ungraded (`UngradedError`), and so does running past `timeout_s`.
 */
export const functionGrader: Grader = async (input) => {
  const outcome = outcomeFor(input, "function");
  const fn = ownCompiled(
    outcome.functions,
    "the function grader's function is not loaded: compile the TypeScript spec with compileModule (a spec read back from JSON holds only its source)",
  );
  const source = `the grader function of ${input.graph.spec_file}`;
  const copy = await copyWorkspace(input.workspace);
  let value: GraderFunctionResult;
  const limitMs = Math.round(outcome.params.timeout_s * 1000);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(
        new UngradedError(
          "grader_timeout",
          `${source} ran past its timeout_s (${outcome.params.timeout_s} s)`,
        ),
      );
    }, limitMs);
  });
  try {
    const payload = graderPayload(input);
    value = await Promise.race([
      Promise.resolve(fn({
        ...(payload as Omit<Parameters<typeof fn>[0], "workspace" | "signal">),
        workspace: copy.dir,
        signal: stop.signal,
      })),
      late,
    ]);
  } catch (e) {
    if (e instanceof UngradedError) throw e;
    throw new UngradedError(
      "grader_error",
      `${source} threw: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener("abort", onAbort);
    await copy.dispose();
  }
  checkDeclaredResult(value, outcome.params.metrics, source);
  // What the run log records must be plain JSON of bounded size, like a command grader's stdout.
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new UngradedError(
      "grader_invalid_output",
      `${source} returned a value that is not JSON: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  if (text === undefined || text.length > MAX_RESULT_CHARS) {
    throw new UngradedError(
      "grader_invalid_output",
      `${source} returned ${
        text === undefined ? "no value" : `${text.length} characters of JSON`
      }; it must return a JSON object of at most ${MAX_RESULT_CHARS} characters`,
    );
  }
  return gradeOfResult(JSON.parse(text), outcome, input);
};
