import { join } from "node:path";
import type { ExecRequest } from "../ports.ts";

/** A program written to a host temp file, for binding read-only into a jail. */
export interface ProgramFile {
  readonly path: string;
  dispose(): Promise<void>;
}

/**
 * Writes `code` to `main.py` or `main.ts` in a fresh temp directory that other users may traverse
 * but not list (0711), so the jail's unprivileged uid can bind and read it (0444).
 */
export async function writeProgram(
  code: string,
  language: ExecRequest["language"],
): Promise<ProgramFile> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-program-" });
  const path = join(dir, language === "python" ? "main.py" : "main.ts");
  try {
    await Deno.writeTextFile(path, code, { mode: 0o444 });
    await Deno.chmod(path, 0o444);
    await Deno.chmod(dir, 0o711);
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  return {
    path,
    dispose: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The per-execution host files of a bwrap jail (see `JailFiles`), in one private temp directory. */
export interface JailFileSet {
  readonly dir: string;
  readonly program: string;
  readonly status: string;
  readonly args: string;
  dispose(): Promise<void>;
}

/**
 * Writes the program, bwrap's NUL-separated arguments and an empty status file into a fresh 0700
 * temp directory: the launcher opens them as the runtime's user before any uid switch, so the
 * jail's uid never needs to reach them and no jailed process can.
 */
export function writeJailFiles(
  code: string,
  language: ExecRequest["language"],
  bwrapOptions: readonly string[],
): Promise<JailFileSet> {
  // Synchronous: a few small files cost ≈ 0.2 ms of CPU this way, ≈ 0.8 ms through async ops.
  const dir = Deno.makeTempDirSync({ prefix: "mappa-jail-" });
  const files = {
    dir,
    program: join(dir, language === "python" ? "main.py" : "main.ts"),
    status: join(dir, "status.jsonl"),
    args: join(dir, "bwrap.args"),
    dispose: () => {
      try {
        Deno.removeSync(dir, { recursive: true });
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  try {
    Deno.chmodSync(dir, 0o700);
    Deno.writeTextFileSync(files.program, code, { mode: 0o600 });
    Deno.writeTextFileSync(files.status, "", { mode: 0o600 });
    Deno.writeTextFileSync(
      files.args,
      bwrapOptions.map((a) => `${a}\0`).join(""),
      { mode: 0o600 },
    );
  } catch (e) {
    Deno.removeSync(dir, { recursive: true });
    return Promise.reject(e);
  }
  return Promise.resolve(files);
}

/** What bwrap's `--json-status-fd` said: whether it exec'd the program, and its exit code. */
export interface JailStatus {
  readonly childPid: number | null;
  /** Present only when bwrap got to exec the program (bubblewrap writes it only then). */
  readonly exitCode: number | null;
}

/** Parses bwrap's status lines (`{ "child-pid": N, ... }`, then `{ "exit-code": N }`). */
export function parseJailStatus(text: string): JailStatus {
  let childPid: number | null = null;
  let exitCode: number | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (Number.isInteger(v["child-pid"])) childPid = v["child-pid"] as number;
      if (Number.isInteger(v["exit-code"])) exitCode = v["exit-code"] as number;
    } catch {
      // a torn line: bwrap died while writing it
    }
  }
  return { childPid, exitCode };
}
