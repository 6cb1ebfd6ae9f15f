import { basename, dirname, extname } from "node:path";
import { parse } from "yaml";
import {
  BUNDLE_LIMITS,
  BundleError,
  decodeBundle,
  isBundleText,
  sha256Hex,
} from "../dsl/mod.ts";
import { resolveFrom } from "../dsl/mod.ts";
import { outsideScope, readScope } from "../dsl/mod.ts";
import {
  cachedBlob,
  storeBlob,
  storeSpec,
  unpackBundle,
} from "./spec_cache.ts";
import { readCapped } from "./read_capped.ts";
import { mappaCacheDir } from "./package_files.ts";

/** Longest a spec download may take, in milliseconds. */
const FETCH_TIMEOUT_MS = 60_000;
/** Deepest chain of `extends` followed to find bases to fetch. */
const MAX_DEPTH = 16;

/**
 * Thrown when a spec argument or a base cannot be fetched, verified or unpacked; the message is one
 * line (a pin mismatch names both hashes). The CLI exits 2 on it.
 */
export class SpecSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpecSourceError";
  }
}

/** Options for `resolveSpecSource`. */
export interface SpecSourceOptions {
  /** The cache folder; default `mappaCacheDir()`. */
  cache?: string;
  /** Paths a local spec may read outside its folder (`--allow-read`); refused for a URL spec. */
  allowRead?: readonly string[];
  /** Receives warnings (an unpinned URL); default: none. */
  warn?: (line: string) => void;
}

/** A spec argument made local: the file to compile and what its loader needs. */
export interface SpecSource {
  /** The spec file to compile: the argument, or a file in the cache. */
  readonly file: string;
  /** Whether it came from a URL (it then reads nothing local). */
  readonly remote: boolean;
  /** `--allow-read` paths, for a local spec. */
  readonly allowRead: readonly string[];
  /** Bases fetched before compiling: pinned URL or local bundle path -> local spec path. */
  readonly fetched: ReadonlyMap<string, string>;
}

const PIN = /#sha256=([0-9a-fA-F]{64})$/;

/** Splits `x#sha256=<hex>` into the location and the pin (lower case). */
export function splitPin(arg: string): { where: string; pin?: string } {
  const m = PIN.exec(arg);
  if (m) return { where: arg.slice(0, m.index), pin: m[1]!.toLowerCase() };
  if (arg.includes("#sha256=")) {
    throw new SpecSourceError(
      `Cannot read the pin of "${arg}": #sha256= takes the 64 hex digits of the file's sha256 and ends the argument; copy the pin deno task bundle (or the unpinned warning) printed`,
    );
  }
  return { where: arg };
}

/** Whether the argument names a URL (http or https); other schemes are refused where they are used. */
export function isSpecUrl(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

function loopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Refuses a URL a spec may not come from: https anywhere, http only from a loopback host (tests). */
function checkUrl(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SpecSourceError(`Cannot fetch ${what} "${url}": it is not a URL`);
  }
  if (u.protocol === "https:") return u;
  if (u.protocol === "http:" && loopback(u.hostname)) return u;
  throw new SpecSourceError(
    `Cannot fetch ${what} "${url}": only https:// URLs are fetched (http:// only from a loopback host, for tests); use https`,
  );
}

async function download(url: string, what: string): Promise<Uint8Array> {
  checkUrl(url, what);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (e) {
    throw new SpecSourceError(
      `Cannot fetch ${what} "${url}": ${
        e instanceof Error ? e.message : String(e)
      }; check the URL and the network`,
    );
  }
  // A redirect may not leave https (or loopback http).
  if (res.url) checkUrl(res.url, `${what} (redirected)`);
  if (!res.ok) {
    await res.body?.cancel();
    throw new SpecSourceError(
      `Cannot fetch ${what} "${url}": HTTP ${res.status}; check the URL`,
    );
  }
  const max = BUNDLE_LIMITS.textBytes;
  const bytes = await readCapped(res, max);
  if (bytes === undefined) {
    throw new SpecSourceError(
      `Cannot fetch ${what} "${url}": it is larger than ${max} bytes, more than a spec or bundle may be`,
    );
  }
  return bytes;
}

function checkPin(where: string, pin: string | undefined, got: string): void {
  if (pin !== undefined && pin !== got) {
    throw new SpecSourceError(
      `Cannot use "${where}": its sha256 is ${got}, the pin says ${pin}; it changed since it was pinned (or the pin is wrong): check it and re-pin with #sha256=${got}`,
    );
  }
}

function decodeText(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SpecSourceError(
      `Cannot use "${where}": it is not UTF-8 text, neither a spec nor a bundle`,
    );
  }
}

/** Makes fetched or local bytes a local spec path: a bundle unpacks, a plain spec sits alone. */
async function localize(
  cache: string,
  bytes: Uint8Array,
  where: string,
  name: string,
): Promise<string> {
  const text = decodeText(bytes, where);
  if (isBundleText(text)) {
    let bundle;
    try {
      bundle = decodeBundle(text);
    } catch (e) {
      if (e instanceof BundleError) {
        throw new SpecSourceError(`${e.message} (bundle "${where}")`);
      }
      throw e;
    }
    if (/\.(ts|mts|js|mjs)$/.test(bundle.entry)) {
      throw new SpecSourceError(
        `Cannot use the bundle "${where}": its entry "${bundle.entry}" is a program; a shared spec must be YAML or JSON`,
      );
    }
    return await unpackBundle(cache, bundle);
  }
  if (/\.(ts|mts|js|mjs)$/.test(name)) {
    throw new SpecSourceError(
      `Cannot run the TS spec "${where}" from a URL: a TS spec is a program; share it as a bundle (deno task bundle) or YAML`,
    );
  }
  const safe = /^[A-Za-z0-9._-]{1,100}$/.test(name) && !name.startsWith(".")
    ? name
    : "spec.yaml";
  return await storeSpec(
    cache,
    bytes,
    extname(safe) === "" ? `${safe}.yaml` : safe,
  );
}

/** Fetches (or finds in the cache, when pinned) a URL and makes it a local spec path. */
async function fromUrl(
  url: string,
  pin: string | undefined,
  cache: string,
  what: string,
  warn: (line: string) => void,
): Promise<string> {
  let bytes = pin === undefined ? null : await cachedBlob(cache, pin);
  if (bytes === null) {
    bytes = await download(url, what);
    const got = sha256Hex(bytes);
    checkPin(url, pin, got);
    if (pin === undefined) {
      warn(
        `mappa: warning: ${what} "${url}" is not pinned: what it holds may change between runs; pin it: ${url}#sha256=${got}`,
      );
    }
    await storeBlob(cache, bytes);
  }
  const name = basename(new URL(url).pathname) || "spec.yaml";
  return await localize(cache, bytes, url, name);
}

/** The first 4 KiB of a file, as text: enough to tell a bundle. */
async function headOf(path: string): Promise<string> {
  using file = await Deno.open(path);
  const buf = new Uint8Array(4096);
  const n = await file.read(buf);
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

/** A local file: a bundle unpacks into the cache; a plain spec stays where it is. */
async function fromFile(
  path: string,
  pin: string | undefined,
  cache: string,
): Promise<string> {
  const info = await Deno.stat(path).catch(() => null);
  if (info === null || !info.isFile) {
    if (pin !== undefined) {
      throw new SpecSourceError(
        `Cannot check the pin of "${path}": no such file`,
      );
    }
    return path; // the compiler says what is wrong with it
  }
  if (info.size > BUNDLE_LIMITS.textBytes) {
    throw new SpecSourceError(
      `Cannot use "${path}": it is ${info.size} bytes, more than a spec or bundle may be (${BUNDLE_LIMITS.textBytes})`,
    );
  }
  if (pin === undefined && !isBundleText(await headOf(path))) return path;
  const bytes = await Deno.readFile(path);
  checkPin(path, pin, sha256Hex(bytes));
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  return isBundleText(head)
    ? await localize(cache, bytes, path, basename(path))
    : path;
}

/** The `extends` values a spec file names at its top, or none when it cannot be read as YAML. */
function extendsOf(path: string): string[] {
  let text: string;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile || info.size > BUNDLE_LIMITS.bytes) return [];
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  // Most specs extend nothing: only one that names the key (YAML at the top, or JSON) is parsed again.
  if (!/^extends\s*:|"extends"\s*:/m.test(text)) return [];
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0 });
  } catch {
    return []; // the compiler reports it
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return [];
  const ext = (doc as Record<string, unknown>).extends;
  const items = Array.isArray(ext) ? ext : [ext];
  return items.filter((x): x is string => typeof x === "string" && x !== "");
}

/**
 * Fetches, before compiling, the bases a spec's `extends` names by pinned URL (an unpinned one is an
 * error naming its pin) or as a local bundle, following their own `extends`; local paths outside the
 * naming file's scope are left for the compiler to refuse.
 */
async function fetchBases(
  entry: string,
  allowRead: readonly string[],
  cache: string,
  warn: (line: string) => void,
): Promise<Map<string, string>> {
  const fetched = new Map<string, string>();
  const seen = new Set<string>();
  const visit = async (
    file: string,
    allow: readonly string[],
    depth: number,
  ) => {
    if (seen.has(file) || depth > MAX_DEPTH) return;
    seen.add(file);
    const scope = readScope(dirname(file), allow);
    for (const written of extendsOf(file)) {
      if (isSpecUrl(written)) {
        const { where, pin } = splitPin(written);
        if (pin === undefined) {
          const bytes = await download(where, "base");
          throw new SpecSourceError(
            `Cannot extend "${written}" unpinned: a base named by URL must be pinned so it never changes under you; write extends: ${where}#sha256=${
              sha256Hex(bytes)
            } (after checking it)`,
          );
        }
        if (!fetched.has(written)) {
          fetched.set(written, await fromUrl(where, pin, cache, "base", warn));
        }
        await visit(fetched.get(written)!, [], depth + 1);
        continue;
      }
      if (
        /^[a-z][a-z0-9+.-]*:\/\//i.test(written) &&
        !written.startsWith("file://")
      ) {
        continue; // the compiler refuses other schemes
      }
      const target = resolveFrom(file, written);
      if (outsideScope(target, scope) !== undefined) continue;
      const local = await fromFile(target, undefined, cache);
      if (local !== target) {
        fetched.set(target, local);
        await visit(local, [], depth + 1);
      } else await visit(target, allow, depth + 1);
    }
  };
  await visit(entry, allowRead, 0);
  return fetched;
}

/**
 * Makes a spec argument local: a path stays a path; a local bundle unpacks into the cache; an https URL
 * (or loopback http) is fetched with size and time budgets, checked against its `#sha256=` pin (a
 * cached pin is not fetched again) and cached; then bases named by pinned URL are fetched. A spec from
 * a URL reads nothing local: it is confined to its unpacked bundle (or to its own file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSpecSource } from "./spec_source.ts";
 * const source = await resolveSpecSource("pipelines/math.yaml");
 * assert.equal(source.file, "pipelines/math.yaml");
 * assert.equal(source.remote, false);
 * ```
 */
export async function resolveSpecSource(
  arg: string,
  options: SpecSourceOptions = {},
): Promise<SpecSource> {
  const cache = options.cache ?? mappaCacheDir();
  const warn = options.warn ?? (() => {});
  const { where, pin } = splitPin(arg);
  const remote = isSpecUrl(where);
  const allowRead = options.allowRead ?? [];
  if (remote && allowRead.length > 0) {
    throw new SpecSourceError(
      `Cannot use --allow-read with the spec "${where}": a spec from a URL never reads local files; download it and run the local copy to let it`,
    );
  }
  for (const path of allowRead) {
    // A misspelt path would otherwise widen nothing, and the spec would fail on what it meant to allow.
    if (!(await Deno.stat(path).then(() => true, () => false))) {
      throw new SpecSourceError(
        `Cannot allow reading "${path}" (--allow-read): no such file or folder; check the path (it is relative to the current directory)`,
      );
    }
  }
  const file = remote
    ? await fromUrl(where, pin, cache, "spec", warn)
    : await fromFile(where, pin, cache);
  const fetched = await fetchBases(file, allowRead, cache, warn);
  return { file, remote, allowRead, fetched };
}
