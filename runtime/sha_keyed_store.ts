import { join } from "node:path";
import type { z } from "zod";
import { writeFileAtomic } from "./write_file_atomic.ts";

const KEY = /^[0-9a-f]{64}$/;

/**
 * JSON entries on disk keyed by a sha256, one file per key under `<dir>/<key[0..2]>/`, each checked
 * against a schema when read and when written. Entries are written to a temporary file and renamed, so a
 * reader never sees half an entry; an unreadable, unparsable, invalid or misfiled entry is a miss (the
 * next `set` overwrites it). The judge cache and the check cache are two of these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { ShaKeyedStore } from "./sha_keyed_store.ts";
 * const store = new ShaKeyedStore(await Deno.makeTempDir(), "test cache",
 *   z.object({ key: z.string(), n: z.number() }));
 * const key = "a".repeat(64);
 * assert.equal(await store.get(key), undefined);
 * await store.set({ key, n: 7 });
 * assert.equal((await store.get(key))?.n, 7);
 * await Deno.remove(store.dir, { recursive: true });
 * ```
 */
export class ShaKeyedStore<S extends z.ZodType<{ key: string }>> {
  /** The folder of the entries. */
  readonly dir: string;
  readonly #what: string;
  readonly #schema: S;

  /** `what` names the store in errors ("judge cache"). */
  constructor(dir: string, what: string, schema: S) {
    this.dir = dir;
    this.#what = what;
    this.#schema = schema;
  }

  /**
   * The entry stored under `key`; undefined when there is none, it cannot be read (a folder in its place,
   * no permission) or it is not a valid entry: a cache miss costs work, never the caller's result.
   */
  async get(key: string): Promise<z.infer<S> | undefined> {
    const path = this.#path(key);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined; // written by something else: a miss
    }
    const parsed = this.#schema.safeParse(value);
    return parsed.success && parsed.data.key === key ? parsed.data : undefined;
  }

  /** Stores `entry` under its `key`, replacing any entry atomically; an entry the schema rejects is refused. */
  async set(entry: z.input<S>): Promise<void> {
    const parsed = this.#schema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TypeError(
        `Cannot store the ${this.#what} entry: at ${
          issue.path.join(".") || "the entry"
        }: ${issue.message}; only valid entries are stored`,
      );
    }
    const path = this.#path(parsed.data.key);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(parsed.data) + "\n");
  }

  #path(key: string): string {
    if (!KEY.test(key)) {
      throw new RangeError(
        `Cannot use ${this.#what} key "${key}": it must be 64 lower-case hex digits (a sha256)`,
      );
    }
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
