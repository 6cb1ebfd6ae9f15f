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
