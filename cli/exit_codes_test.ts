import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { DatasetError, RunStoreError } from "../runtime/mod.ts";
import { EXIT, exitCodeOf, UsageError } from "./exit_codes.ts";
import { SpecArgError } from "./spec_arg.ts";

Deno.test("exitCodeOf() gives 2 to the errors in the table", () => {
  for (
    const e of [
      new UsageError('Cannot use --limit "x": it must be a whole number'),
      new SpecArgError("Cannot fetch the spec: 404"),
      new DatasetError("tasks file missing"),
      new RunStoreError("run directory is locked", "runs/x"),
      new Deno.errors.NotFound("no such file"),
      new Deno.errors.PermissionDenied("denied"),
    ]
  ) assert.equal(exitCodeOf(e), EXIT.usage, e.name);
});

Deno.test("exitCodeOf() gives 2 to refusals, parse errors and a full disk", () => {
  assert.equal(exitCodeOf(new Error("Cannot train x: no trainer; y")), 2);
  assert.equal(exitCodeOf(new Error("The local trainer exited")), 2);
  assert.equal(exitCodeOf(new Error("write: No space left on device")), 2);
  assert.equal(exitCodeOf(new RangeError("limit out of range")), 2);
  let parseError: unknown;
  try {
    parseArgs({ args: ["--nope"], options: {} });
  } catch (e) {
    parseError = e;
  }
  assert.equal(exitCodeOf(parseError), EXIT.usage);
});

Deno.test("exitCodeOf() gives 3 to our own bugs, whatever their wording", () => {
  assert.equal(exitCodeOf(new Error("boom")), EXIT.internal);
  assert.equal(
    exitCodeOf(
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    ),
    EXIT.internal,
  );
  assert.equal(
    exitCodeOf(new RangeError("Maximum call stack size exceeded")),
    EXIT.internal,
  );
  assert.equal(exitCodeOf("a string"), EXIT.internal);
});
