import { dirname, join } from "node:path";
import { splitRelative } from "./_split_relative.ts";

/** One task input file: copied from `from` (a host path) to `as` (relative to the workspace). */
export interface SeedFile {
  readonly from: string;
  readonly as: string;
}

/**
 * Creates the workspace directory if needed and copies the task's input files into it. Each `as`
 * must be a plain relative path (no "..", no leading "/"); an existing entry there is an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedWorkspace } from "./seed_workspace.ts";
 * const src = await Deno.makeTempFile();
 * await Deno.writeTextFile(src, "x,y\n1,2\n");
 * const ws = `${await Deno.makeTempDir()}/ws`;
 * await seedWorkspace(ws, [{ from: src, as: "data/train.csv" }]);
 * assert.equal(await Deno.readTextFile(`${ws}/data/train.csv`), "x,y\n1,2\n");
 * await Deno.remove(src);
 * await Deno.remove(`${ws}/..`, { recursive: true });
 * ```
 */
export async function seedWorkspace(
  dir: string,
  files: readonly SeedFile[],
): Promise<void> {
  for (const f of files) {
    if (splitRelative(f.as) === undefined) {
      throw new TypeError(
        `Cannot seed "${f.from}" as "${f.as}": the target must be a relative path inside the workspace, without "." or ".." parts`,
      );
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const f of files) {
    const target = join(dir, f.as);
    const info = await Deno.stat(f.from).catch((cause) => {
      throw new Error(`Cannot seed "${f.from}": ${String(cause)}`, { cause });
    });
    if (!info.isFile) {
      throw new TypeError(`Cannot seed "${f.from}": it is not a regular file`);
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    const exists = await Deno.lstat(target).then(() => true, () => false);
    if (exists) {
      throw new Error(
        `Cannot seed "${f.from}" as "${f.as}": the workspace already has an entry there`,
      );
    }
    await Deno.copyFile(f.from, target);
  }
}
