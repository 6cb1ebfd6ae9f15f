import { createHash } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import type { ChatMessage } from "../runtime/mod.ts";
import { ShaKeyedStore } from "../runtime/mod.ts";
import { JudgeReplySchema } from "./types.ts";

/** Everything that decides a judge's reply; its sha256 is the cache key (DESIGN.md decision 7). */
export interface JudgeCacheKeyParts {
  /** The model name sent to the server. */
  readonly model_name: string;
  /** The endpoint, or null for a client without one (scripted). */
  readonly base_url: string | null;
  readonly temperature: number;
  readonly seed: number;
  readonly max_tokens?: number | null | undefined;
  /** The JSON Schema response format, or none when the judge asks for none. */
  readonly response_format?:
    | {
      readonly name: string;
      readonly schema: Record<string, unknown>;
    }
    | null
    | undefined;
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
    parts.max_tokens ?? null,
    parts.response_format ?? null,
    parts.messages.map((m) => [m.role, m.content]),
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/**
 * Valid judge verdicts on disk by {@linkcode judgeCacheKey}, so rescoring an unchanged rubric makes no
 * calls. Only valid replies go in: `set` refuses an entry {@linkcode CachedJudgementSchema} rejects, and
 * judges never store errors.
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
export class JudgeCache extends ShaKeyedStore<typeof CachedJudgementSchema> {
  constructor(options: JudgeCacheOptions = {}) {
    super(
      options.dir ?? join(".cache", "judge"),
      "judge cache",
      CachedJudgementSchema,
    );
  }
}
