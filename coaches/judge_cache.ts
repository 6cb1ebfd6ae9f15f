import { createHash } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import type { ChatMessage } from "../runtime/mod.ts";
import { writeFileAtomic } from "../runtime/mod.ts";
import { JudgeReplySchema } from "./types.ts";

/** Everything that decides a judge's reply; its sha256 is the cache key (DESIGN.md decision 7). */
export interface JudgeCacheKeyParts {
  /** The model name sent to the server. */
  readonly model_name: string;
  /** The endpoint, or null for a client without one (scripted). */
  readonly base_url: string | null;
  readonly temperature: number;
  readonly seed: number;
  readonly max_tokens: number | null;
  /** The JSON Schema response format, or null when the judge asks for none. */
  readonly response_format: {
    readonly name: string;
    readonly schema: Record<string, unknown>;
  } | null;
  /** The messages of the first attempt: the system prompt and the rendered judge prompt. */
  readonly messages: readonly ChatMessage[];
}

/** A valid judgement as stored: the parsed reply, every raw reply that led to it, and what it cost. */
export const CachedJudgementSchema = z.strictObject({
  version: z.literal(1),
  key: z.string(),
  model_name: z.string().nullable(),
  prompt_sha256: z.string(),
  reply: JudgeReplySchema,
  raw: z.array(z.string()).min(1),
  attempts: z.number().int().min(1),
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  cost_usd: z.number().nullable(),
  created: z.string(),
});

/** One cache entry. */
export type CachedJudgement = z.infer<typeof CachedJudgementSchema>;

/** Options of {@linkcode JudgeCache}. */
export interface JudgeCacheOptions {
  /** Folder of the entries. @default ".cache/judge" */
  readonly dir?: string;
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * The sha256 cache key of a judge call: model name, base URL, sampling, response format and messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeCacheKey } from "./judge_cache.ts";
 * const parts = { model_name: "m", base_url: null, temperature: 0, seed: 0, max_tokens: null,
 *   response_format: null, messages: [{ role: "user" as const, content: "Score this." }] };
 * assert.notEqual(judgeCacheKey(parts), judgeCacheKey({ ...parts, seed: 1 }));
 * ```
 */
export function judgeCacheKey(parts: JudgeCacheKeyParts): string {
  // Fixed field order, so equal parts always give equal text.
  const canonical = JSON.stringify([
    "mappa-judge-v1",
    parts.model_name,
    parts.base_url,
    parts.temperature,
    parts.seed,
    parts.max_tokens,
    parts.response_format,
    parts.messages.map((m) => [m.role, m.content]),
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/**
 * Valid judge verdicts on disk, one JSON file per key under `<dir>/<key[0..2]>/`, so rescoring an
 * unchanged rubric makes no calls. Entries are written to a temporary file and renamed, so a reader
 * never sees half an entry; an unreadable or invalid entry is a miss. Only valid replies go in:
 * `set` refuses an entry {@linkcode CachedJudgementSchema} rejects, and judges never store errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JudgeCache, judgeCacheKey } from "./judge_cache.ts";
 * const cache = new JudgeCache({ dir: await Deno.makeTempDir() });
 * const key = judgeCacheKey({ model_name: "m", base_url: null, temperature: 0, seed: 0,
 *   max_tokens: null, response_format: null, messages: [] });
 * assert.equal(await cache.get(key), undefined);
 * await cache.set({ version: 1, key, model_name: "m", prompt_sha256: "0".repeat(64),
 *   reply: { reasoning: "ran", score: 7, blame: null }, raw: ['{"score":7}'], attempts: 1,
 *   prompt_tokens: 10, completion_tokens: 5, cost_usd: null, created: new Date().toISOString() });
 * assert.equal((await cache.get(key))?.reply.score, 7);
 * await Deno.remove(cache.dir, { recursive: true });
 * ```
 */
export class JudgeCache {
  readonly dir: string;

  constructor(options: JudgeCacheOptions = {}) {
    this.dir = options.dir ?? join(".cache", "judge");
  }

  /** The entry stored under `key`, or undefined when there is none or it cannot be read. */
  async get(key: string): Promise<CachedJudgement | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path(key));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined; // written by something else: a miss, overwritten by the next set
    }
    const parsed = CachedJudgementSchema.safeParse(value);
    return parsed.success && parsed.data.key === key ? parsed.data : undefined;
  }

  /** Stores a valid judgement under its `key`, replacing any entry atomically. */
  async set(entry: CachedJudgement): Promise<void> {
    const parsed = CachedJudgementSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TypeError(
        `Cannot cache the judgement: at ${
          issue.path.join(".") || "the entry"
        }: ${issue.message}; only valid replies are cached`,
      );
    }
    const path = this.#path(entry.key);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(parsed.data) + "\n");
  }

  #path(key: string): string {
    if (!KEY.test(key)) {
      throw new RangeError(
        `Cannot use judge cache key "${key}": it must be 64 lower-case hex digits (a sha256)`,
      );
    }
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
