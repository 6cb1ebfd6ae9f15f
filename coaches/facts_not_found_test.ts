import assert from "node:assert/strict";
import { filesNotFound } from "./facts_not_found.ts";

Deno.test("filesNotFound() reads the file names of missing-file errors in several languages", () => {
  const stderr = [
    "Traceback (most recent call last):",
    '  File "/run/main.py", line 4, in <module>',
    '    X_test = pickle.load(open("X_test.pkl", "rb"))',
    "FileNotFoundError: [Errno 2] No such file or directory: '/workspace/X_test.pkl'",
    "error: Uncaught (in promise) NotFound: No such file or directory (os error 2): readfile './model.pkl'",
    "cat: data/train.csv: No such file or directory",
    "FileNotFoundError: features.npy not found.",
  ].join("\n");
  assert.deepEqual(filesNotFound(stderr), [
    "X_test.pkl",
    "model.pkl",
    "data/train.csv",
    "features.npy",
  ]);
});

Deno.test("filesNotFound() ignores other errors", () => {
  assert.deepEqual(
    filesNotFound("KeyError: 'target'\nValueError: bad 'x.csv'"),
    [],
  );
});
