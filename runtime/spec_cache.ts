import { dirname, join } from "node:path";
import { type Bundle, BUNDLE_LIMITS, sha256Hex } from "../dsl/mod.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";

// The cache (mappaCacheDir(): $MAPPA_CACHE, else $XDG_CACHE_HOME/mappa, else ~/.cache/mappa) holds
// fetched bytes in `blobs/<sha256>`, bundles unpacked in `bundles/<bundle sha256>/`, and a plain spec
// fetched from a URL alone in `specs/<sha256>/<its file name>`.

/** Bytes cached under their sha256, or null when absent or not matching it (a damaged entry). */
export async function cachedBlob(
  cache: string,
  sha256: string,
): Promise<Uint8Array | null> {
  const path = join(cache, "blobs", sha256);
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null || !info.isFile || info.size > BUNDLE_LIMITS.textBytes) {
    return null;
  }
  const bytes = await Deno.readFile(path);
  return sha256Hex(bytes) === sha256 ? bytes : null;
}

/** Writes a file whole or not at all, creating its folder first. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

/** Caches fetched bytes under their sha256 (returned). */
export async function storeBlob(
  cache: string,
  bytes: Uint8Array,
): Promise<string> {
  const sha256 = sha256Hex(bytes);
  if ((await cachedBlob(cache, sha256)) === null) {
    await writeAtomic(join(cache, "blobs", sha256), bytes);
  }
  return sha256;
}

/**
 * Unpacks a verified bundle into `bundles/<sha256>/` (once: a folder appears whole, by rename, so one
 * that exists is complete) and returns the path of its entry spec. Files are created new, never through
 * an existing link.
 */
export async function unpackBundle(
  cache: string,
  bundle: Bundle,
): Promise<string> {
  const dir = join(cache, "bundles", bundle.sha256);
  const entry = join(dir, bundle.entry);
  const info = await Deno.lstat(dir).catch(() => null);
  if (info?.isDirectory) return entry;
  const tmp = join(cache, "bundles", `.incoming-${crypto.randomUUID()}`);
  await Deno.mkdir(tmp, { recursive: true });
  try {
    for (const [path, bytes] of bundle.files) {
      const target = join(tmp, path);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeFile(target, bytes, { createNew: true, mode: 0o644 });
    }
    await Deno.rename(tmp, dir).catch(async (e) => {
      // Another process unpacked the same bundle first: its copy is as good.
      if (!(await Deno.lstat(dir).then((i) => i.isDirectory, () => false))) {
        throw e;
      }
      await Deno.remove(tmp, { recursive: true });
    });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return entry;
}

/** Caches a plain spec fetched from a URL alone in `specs/<sha256>/<name>`, and returns its path. */
export async function storeSpec(
  cache: string,
  bytes: Uint8Array,
  name: string,
): Promise<string> {
  const path = join(cache, "specs", sha256Hex(bytes), name);
  const info = await Deno.lstat(path).catch(() => null);
  if (!info?.isFile) await writeAtomic(path, bytes);
  return path;
}
