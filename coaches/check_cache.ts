import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../runtime/mod.ts";

/** What a check program decided, as stored: whether it fires and its note. */
export const CheckDecisionSchema = z.strictObject({
  fires: z.boolean(),
  note: z.string().max(2000).optional(),
});

/** One decision of a `when: command` check. */
export type CheckDecision = z.infer<typeof CheckDecisionSchema>;

const EntrySchema = z.strictObject({
  version: z.literal(1),
  key: z.string(),
  decision: CheckDecisionSchema,
  created: z.string(),
});

const KEY = /^[0-9a-f]{64}$/;

/** Options of {@linkcode CheckCache}. */
export interface CheckCacheOptions {
  /** Folder of the entries. @default ".cache/checks" */
  readonly dir?: string;
}

/**
 * Decisions of check programs on disk, one JSON file per key (the sha256 of the program, its limits, the
 * evidence and the workspace's file hashes) under `<dir>/<key[0..2]>/`, so rescoring a run again does
 * not run the programs again. Only decisions go in, never failures (a timeout under load may not recur);
 * an unreadable or invalid entry is a miss. Entries are written to a temporary file and renamed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CheckCache } from "./check_cache.ts";
 * const cache = new CheckCache({ dir: await Deno.makeTempDir() });
 * const key = "a".repeat(64);
 * assert.equal(await cache.get(key), undefined);
 * await cache.set(key, { fires: true, note: "hard-coded 42" });
 * assert.deepEqual(await cache.get(key), { fires: true, note: "hard-coded 42" });
 * await Deno.remove(cache.dir, { recursive: true });
 * ```
 */
export class CheckCache {
  readonly dir: string;

  constructor(options: CheckCacheOptions = {}) {
    this.dir = options.dir ?? join(".cache", "checks");
  }

  /** The decision stored under `key`, or undefined. */
  async get(key: string): Promise<CheckDecision | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path(key));
    } catch {
      return undefined;
    }
    try {
      const entry = EntrySchema.safeParse(JSON.parse(text));
      return entry.success && entry.data.key === key
        ? entry.data.decision
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores a decision under `key`. */
  async set(key: string, decision: CheckDecision): Promise<void> {
    const path = this.#path(key);
    await Deno.mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const entry = {
      version: 1,
      key,
      decision: CheckDecisionSchema.parse(decision),
      created: new Date().toISOString(),
    };
    await writeFileAtomic(path, JSON.stringify(entry));
  }

  #path(key: string): string {
    if (!KEY.test(key)) {
      throw new TypeError(
        `Cannot use check cache key "${key}": expected 64 hex digits`,
      );
    }
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
