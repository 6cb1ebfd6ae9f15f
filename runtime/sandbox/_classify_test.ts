import assert from "node:assert/strict";
import { classifyExit, type ExitFacts, parseError } from "./_classify.ts";

function facts(over: Partial<ExitFacts>): ExitFacts {
  return {
    language: "python",
    timedOut: false,
    outputExceeded: false,
    exitCode: 1,
    signal: null,
    stderrMarkers: new Set(),
    ...over,
  };
}

Deno.test("classifyExit() follows the order of reference/sandbox.md §3.2", () => {
  const cases: [Partial<ExitFacts>, string][] = [
    [{ timedOut: true, exitCode: 137, signal: "SIGKILL" }, "wall_timeout"],
    [{ timedOut: true, exitCode: 0 }, "wall_timeout"],
    [{ exitCode: 0 }, "ok"],
    [{ exitCode: 152, signal: "SIGXCPU" }, "cpu_time_limit"],
    [{ exitCode: 152 }, "cpu_time_limit"],
    [{ exitCode: null, signal: "SIGXCPU" }, "cpu_time_limit"],
    [{ exitCode: 153, signal: "SIGXFSZ" }, "file_size_limit"],
    [{ stderrMarkers: new Set(["File too large"]) }, "file_size_limit"],
    [{ stderrMarkers: new Set(["MemoryError"]) }, "memory_limit"],
    [{
      language: "typescript",
      exitCode: 133,
      signal: "SIGTRAP",
      stderrMarkers: new Set(["heap limit"]),
    }, "memory_limit"],
    [{ language: "typescript", exitCode: 133, signal: "SIGTRAP" }, "error"],
    [
      { outputExceeded: true, exitCode: 137, signal: "SIGKILL" },
      "output_limit",
    ],
    [{ exitCode: 137, signal: "SIGKILL" }, "killed"],
    [{ exitCode: 1 }, "error"],
    [{ exitCode: 139, signal: "SIGSEGV" }, "error"],
  ];
  for (const [over, status] of cases) {
    assert.equal(classifyExit(facts(over)), status, JSON.stringify(over));
  }
});

Deno.test("parseError() takes the last Python exception, chained or not", () => {
  const chained = [
    "Traceback (most recent call last):",
    '  File "/run/main.py", line 2, in <module>',
    "KeyError: 'k'",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    '  File "/run/main.py", line 4, in <module>',
    "    raise ValueError('bad: x')",
    "pandas.errors.EmptyDataError: No columns to parse from file",
  ].join("\n");
  assert.deepEqual(parseError("python", chained), {
    type: "pandas.errors.EmptyDataError",
    message: "No columns to parse from file",
  });
  assert.deepEqual(
    parseError(
      "python",
      "Traceback (most recent call last):\n  File x\nKeyboardInterrupt\n",
    ),
    { type: "KeyboardInterrupt", message: "" },
  );
  assert.deepEqual(
    parseError(
      "python",
      "Traceback (most recent call last):\n  File x\nBoom: custom\n",
    ),
    { type: "Boom", message: "custom" },
  );
  assert.deepEqual(
    parseError(
      "python",
      "  File \"/run/main.py\", line 1\n    x = (\n        ^\nSyntaxError: '(' was never closed\n",
    ),
    { type: "SyntaxError", message: "'(' was never closed" },
  );
  assert.equal(parseError("python", "warning: something odd\n"), undefined);
});

Deno.test("parseError() reads Deno's uncaught errors", () => {
  assert.deepEqual(
    parseError(
      "typescript",
      "error: Uncaught (in promise) NotCapable: Requires net access\n    at x",
    ),
    { type: "NotCapable", message: "Requires net access" },
  );
  assert.deepEqual(parseError("typescript", "error: Uncaught Error: boom\n"), {
    type: "Error",
    message: "boom",
  });
  assert.deepEqual(parseError("typescript", "error: Uncaught 'text'\n"), {
    type: "Uncaught",
    message: "'text'",
  });
  assert.deepEqual(
    parseError(
      "typescript",
      "error: The module's source code could not be parsed: Expected ';'\n",
    ),
    {
      type: "Error",
      message: "The module's source code could not be parsed: Expected ';'",
    },
  );
});
