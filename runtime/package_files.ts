/**
 * Files of the mappa package that programs other than Deno read (the sandbox's seccomp filter, the
 * Python trainer): on disk already in a checkout, copied into the cache when mappa runs from a URL
 * (`deno install … https://…/cli.ts`) or from a `deno compile` binary, whose files only Deno can read.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readCapped } from "./read_capped.ts";

/** Bytes one package file may hold when it is copied (the largest shipped today is ~40 KB). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** How long fetching one package file may take. */
const FETCH_TIMEOUT_MS = 30_000;

/**
 * mappa's cache folder: `$MAPPA_CACHE`, else `$XDG_CACHE_HOME/mappa`, else `$HOME/.cache/mappa`; from
 * the environment alone, so `check` needs no permission beyond reading it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mappaCacheDir } from "./package_files.ts";
 * assert.ok(mappaCacheDir().length > 0);
 * ```
 */
export function mappaCacheDir(): string {
  const env = (name: string) => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined; // no permission to read it: as if unset
    }
  };
  const own = env("MAPPA_CACHE");
  if (own !== undefined) return own;
  return join(
    env("XDG_CACHE_HOME") ?? join(env("HOME") ?? ".", ".cache"),
    "mappa",
  );
}

/** True when `dir` is a folder other programs can read: a `file:` URL outside a `deno compile` binary. */
function onDisk(dir: URL): boolean {
  // A compiled binary serves its files from a virtual folder under /tmp/deno-compile-<name>/ that
  // only the Deno runtime inside the binary can open.
  return dir.protocol === "file:" && !dir.pathname.includes("/deno-compile-");
}

async function readPackageFile(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const reply = await fetch(url, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!reply.ok) {
    await reply.body?.cancel();
    throw new Error(`HTTP ${reply.status}`);
  }
  const bytes = await readCapped(reply, MAX_FILE_BYTES);
  if (bytes === undefined) {
    throw new Error(`it is more than ${MAX_FILE_BYTES} bytes`);
  }
  return bytes;
}

/**
 * A local folder holding `files` (paths relative to `dir`, a folder URL ending in `/`): `dir` itself
 * when it is on disk, else a copy under {@linkcode mappaCacheDir}`/package/<hash of the URLs>/`, made
 * once (a `.complete` marker is written last, so an interrupted copy is redone, never half used).
 * Throws naming the file, the URL and the fix when a file cannot be copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packageDir } from "./package_files.ts";
 * const dir = await packageDir(new URL("./", import.meta.url), ["package_files.ts"]);
 * assert.ok(dir.endsWith("runtime/"));
 * ```
 */
export async function packageDir(
  dir: URL,
  files: readonly string[],
): Promise<string> {
  if (onDisk(dir)) return fileURLToPath(dir);
  const key = createHash("sha256").update(dir.href).update("\0")
    .update(files.join("\0")).digest("hex").slice(0, 32);
  const target = join(mappaCacheDir(), "package", key);
  const marker = join(target, ".complete");
  try {
    await Deno.lstat(marker);
    return target;
  } catch {
    // not copied yet (or an earlier copy was interrupted): copy below
  }
  const staging = `${target}.${Deno.pid}.tmp`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  for (const file of files) {
    const url = new URL(file, dir);
    let bytes: Uint8Array;
    try {
      bytes = await readPackageFile(url);
    } catch (e) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw new Error(
        `Cannot copy mappa's file "${file}" from ${url.href}: ${
          e instanceof Error ? e.message : String(e)
        }; check that the URL mappa was installed from still serves it, or install from a local checkout`,
      );
    }
    const path = join(staging, file);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeFile(path, bytes);
  }
  await Deno.writeTextFile(join(staging, ".complete"), dir.href);
  await Deno.mkdir(dirname(target), { recursive: true });
  try {
    await Deno.rename(staging, target);
  } catch {
    // Another process copied it first: use theirs.
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return target;
}
