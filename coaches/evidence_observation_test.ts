import assert from "node:assert/strict";
import { capStream, observationEvidence } from "./evidence_observation.ts";
import { fixtureExecution } from "../tests/fixtures/run_log_fixture.ts";

Deno.test("capStream() keeps the head and the tail with a note of what was cut", () => {
  const text = "a".repeat(10) + "b".repeat(100) + "c".repeat(10);
  const capped = capStream(text, 20, 120);
  assert.equal(capped.cut, true);
  assert.equal(
    capped.text,
    "a".repeat(10) +
      "\n[... 100 characters omitted for the coach; the stream had 120 bytes ...]\n" +
      "c".repeat(10),
  );
  assert.deepEqual(capStream("short", 20, 5), { text: "short", cut: false });
});

Deno.test("observationEvidence() keeps status, exit, error and files, and marks truncation", () => {
  const e = fixtureExecution({
    status: "error",
    exit_code: 1,
    stdout: "x".repeat(5000),
    stderr: "KeyError: 'y'",
    error: { type: "KeyError", message: "'y'" },
    files: [
      { path: "a.csv", change: "created", kind: "file", size: 3 },
      { path: "l", change: "created", kind: "symlink", rejected: "symlink" },
    ],
  });
  const o = observationEvidence(e);
  assert.equal(o.stdout.length < 4200, true);
  assert.equal(o.stdout_truncated, true);
  assert.equal(o.stderr, "KeyError: 'y'");
  assert.equal(o.stderr_truncated, false);
  assert.deepEqual(o.error, { type: "KeyError", message: "'y'" });
  assert.deepEqual(o.files, [
    { path: "a.csv", change: "created" },
    { path: "l", change: "created", rejected: "symlink" },
  ]);
  const runtimeCut = observationEvidence({
    ...e,
    stdout: { text: "head…tail", total_bytes: 999999, truncated: true },
  });
  assert.equal(runtimeCut.stdout_truncated, true);
});
