import { join } from "node:path";
import { z } from "zod";
import { ShaKeyedStore } from "../runtime/mod.ts";

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

/** Options of {@linkcode CheckCache}. */
export interface CheckCacheOptions {
  /** Folder of the entries. @default ".cache/checks" */
  readonly dir?: string;
}

/**
 * Decisions of check programs on disk, one JSON file per key (the sha256 of the program, its limits, the
 * evidence and the workspace's file hashes) under `<dir>/<key[0..2]>/`, so rescoring a run again does
 * not run the programs again. Only decisions go in, never failures (a timeout under load may not recur).
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
  readonly #store: ShaKeyedStore<typeof EntrySchema>;

  constructor(options: CheckCacheOptions = {}) {
    this.#store = new ShaKeyedStore(
      options.dir ?? join(".cache", "checks"),
      "check cache",
      EntrySchema,
    );
  }

  /** The folder of the entries. */
  get dir(): string {
    return this.#store.dir;
  }

  /** The decision stored under `key`; undefined when there is none or it cannot be read (the check runs again). */
  async get(key: string): Promise<CheckDecision | undefined> {
    return (await this.#store.get(key))?.decision;
  }

  /** Stores a decision under `key`. */
  async set(key: string, decision: CheckDecision): Promise<void> {
    await this.#store.set({
      version: 1,
      key,
      decision,
      created: new Date().toISOString(),
    });
  }
}
