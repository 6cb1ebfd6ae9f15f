import { dirname, join } from "node:path";
import { readWorkspaceFile } from "../workspace/read_workspace_file.ts";
import { snapshot } from "../workspace/snapshot.ts";

/** Budgets of {@linkcode copyWorkspace}. */
export interface WorkspaceCopyLimits {
  /** Most entries copied. */
  readonly maxEntries: number;
  /** Most bytes copied, all files together. */
  readonly maxBytes: number;
}

/** Default budgets: what a grader may need to see of an episode's workspace. */
export const DEFAULT_COPY_LIMITS: WorkspaceCopyLimits = {
  maxEntries: 10_000,
  maxBytes: 256 << 20,
};

/** A snapshot copy of a workspace, and what was left out of it. */
export interface WorkspaceCopy {
  /** The copy's folder (0755, files 0644): bind it read-only. */
  readonly dir: string;
  /** Relative paths not copied, with why ("symlink", "over the byte budget", …); at most 100. */
  readonly skipped: readonly string[];
  dispose(): Promise<void>;
}

/**
 * Copies the regular files and folders of `source` into a fresh temp folder, reading each file
 * through `readWorkspaceFile` (no symlink followed in any component, no FIFO or device opened) and
 * within the budgets: a symlink the agent planted (`answer.txt -> /somewhere`) is not copied, nor is
 * anything past the entry or byte budget. Without `source` (or with ""), the copy is an empty folder.
 */
export async function copyWorkspace(
  source: string | undefined,
  limits: WorkspaceCopyLimits = DEFAULT_COPY_LIMITS,
): Promise<WorkspaceCopy> {
  const dir = await Deno.makeTempDir({ prefix: "mappa-grader-ws-" });
  const dispose = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const skipped: string[] = [];
  const skip = (path: string, why: string) => {
    if (skipped.length < 100) skipped.push(`${path} (${why})`);
  };
  try {
    await Deno.chmod(dir, 0o755);
    // "" is no workspace (a grading without one), never the working directory.
    if (source !== undefined && source !== "") {
      const snap = await snapshot(source, { maxEntries: limits.maxEntries });
      if (snap.truncated) {
        skip("*", `more than ${limits.maxEntries} entries`);
      }
      let budget = limits.maxBytes;
      const entries = [...snap.entries.values()].sort((a, b) =>
        a.path < b.path ? -1 : a.path > b.path ? 1 : 0
      );
      for (const entry of entries) {
        const target = join(dir, entry.path);
        if (entry.kind === "dir") {
          await Deno.mkdir(target, { recursive: true, mode: 0o755 });
          continue;
        }
        if (entry.kind !== "file") {
          skip(entry.path, entry.kind);
          continue;
        }
        if (entry.size > budget) {
          skip(entry.path, "over the byte budget");
          continue;
        }
        const read = await readWorkspaceFile(source, entry.path, {
          maxBytes: budget,
          expected: { ino: entry.ino, dev: entry.dev },
        });
        if (!read.ok) {
          skip(entry.path, read.reason);
          continue;
        }
        budget -= read.bytes.length;
        await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
        await Deno.writeFile(target, read.bytes, { mode: 0o644 });
      }
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { dir, skipped, dispose };
}
