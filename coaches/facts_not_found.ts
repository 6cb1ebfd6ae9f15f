const NOT_FOUND = /FileNotFoundError|No such file or directory|NotFound:/;
const QUOTED = /'([^'\n]+)'|"([^"\n]+)"/g;
const SHELL = /(?:^|\s)([^\s:'"]+): No such file or directory/g;
const FILE_NAME = /[\w.\-/]+\.\w+/g;

function workspacePath(path: string): string {
  return path.replace(/^\/workspace\//, "").replace(/^(\.\/)+/, "");
}

/**
 * The files a tool's error output says were not found: quoted paths on FileNotFoundError / "No such file"
 * lines (Python, pandas, pickle, Deno's NotFound, `cmd: path: No such file`), relative to the workspace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filesNotFound } from "./facts_not_found.ts";
 * assert.deepEqual(
 *   filesNotFound("FileNotFoundError: [Errno 2] No such file or directory: '/workspace/X_test.pkl'"),
 *   ["X_test.pkl"],
 * );
 * ```
 */
export function filesNotFound(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split("\n")) {
    if (!NOT_FOUND.test(line)) continue;
    let names = [...line.matchAll(QUOTED)].map((m) => m[1] ?? m[2]!);
    if (names.length === 0) names = [...line.matchAll(SHELL)].map((m) => m[1]!);
    // numpy and others: "FileNotFoundError: X_test.npy not found." names the file unquoted.
    if (names.length === 0 && line.includes("FileNotFoundError")) {
      const rest = line.slice(line.indexOf("FileNotFoundError") + 17);
      names = [...rest.matchAll(FILE_NAME)].map((m) => m[0]);
    }
    for (const name of names) found.add(workspacePath(name));
  }
  return [...found].filter((f) => f !== "");
}
