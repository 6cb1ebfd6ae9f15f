import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CachedJudgement,
  JudgeCache,
  judgeCacheKey,
  type JudgeCacheKeyParts,
} from "./judge_cache.ts";

const PARTS: JudgeCacheKeyParts = {
  model_name: "judge-model",
  base_url: "http://127.0.0.1:8000/v1",
  temperature: 0,
  seed: 0,
  max_tokens: null,
  response_format: { name: "judge_verdict", schema: { type: "object" } },
  messages: [
    { role: "system", content: "Evidence first." },
    { role: "user", content: "Judge this action." },
  ],
};

function entry(
  key: string,
  fields: Partial<CachedJudgement> = {},
): CachedJudgement {
  return {
    version: 1,
    key,
    model_name: "judge-model",
    prompt_sha256: "a".repeat(64),
    reply: { reasoning: "saved every file", score: 8, blame: null },
    raw: ['{"reasoning":"saved every file","score":8,"blame":null}'],
    attempts: 1,
    prompt_tokens: 100,
    completion_tokens: 20,
    cost_usd: 0.001,
    created: "2025-01-01T00:00:00.000Z",
    ...fields,
  };
}

async function withCache(body: (cache: JudgeCache) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "judge_cache_test_" });
  try {
    await body(new JudgeCache({ dir }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("judgeCacheKey() changes with every part and only with them", () => {
  const key = judgeCacheKey(PARTS);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(judgeCacheKey({ ...PARTS, messages: [...PARTS.messages] }), key);
  const changed: JudgeCacheKeyParts[] = [
    { ...PARTS, model_name: "other" },
    { ...PARTS, base_url: "http://127.0.0.1:8001/v1" },
    { ...PARTS, base_url: null },
    { ...PARTS, temperature: 0.5 },
    { ...PARTS, seed: 1 },
    { ...PARTS, max_tokens: 512 },
    { ...PARTS, response_format: null },
    { ...PARTS, response_format: { name: "judge_verdict", schema: {} } },
    {
      ...PARTS,
      messages: [PARTS.messages[0]!, {
        role: "user",
        content: "Judge this action!",
      }],
    },
    { ...PARTS, messages: [PARTS.messages[1]!] },
  ];
  const keys = new Set([key, ...changed.map(judgeCacheKey)]);
  assert.equal(keys.size, changed.length + 1);
});

Deno.test("JudgeCache stores and reads back a judgement under its key", async () => {
  await withCache(async (cache) => {
    const key = judgeCacheKey(PARTS);
    assert.equal(await cache.get(key), undefined);
    await cache.set(entry(key));
    assert.deepEqual(await cache.get(key), entry(key));
    await cache.set(
      entry(key, { reply: { reasoning: "r", score: 3, blame: "modeler" } }),
    );
    assert.equal((await cache.get(key))?.reply.score, 3);
    const files = [...Deno.readDirSync(join(cache.dir, key.slice(0, 2)))].map((
      f,
    ) => f.name);
    assert.deepEqual(files, [`${key}.json`]); // no temporary file left behind
  });
});

Deno.test("JudgeCache defaults to .cache/judge", () => {
  assert.equal(new JudgeCache().dir, join(".cache", "judge"));
});

Deno.test("JudgeCache refuses to store an invalid judgement", async () => {
  await withCache(async (cache) => {
    const key = judgeCacheKey(PARTS);
    await assert.rejects(
      () => cache.set({ ...entry(key), raw: [] }),
      {
        name: "TypeError",
        message:
          /^Cannot store the judge cache entry: at raw: .*only valid entries are stored$/,
      },
    );
    await assert.rejects(
      () =>
        cache.set(
          entry(key, {
            reply: { reasoning: "r", score: Number.NaN, blame: null },
          }),
        ),
      { name: "TypeError" },
    );
    assert.equal(await cache.get(key), undefined);
  });
});

Deno.test("JudgeCache treats a corrupt or foreign entry as a miss", async () => {
  await withCache(async (cache) => {
    const key = judgeCacheKey(PARTS);
    const other = judgeCacheKey({ ...PARTS, seed: 9 });
    const path = join(cache.dir, key.slice(0, 2), `${key}.json`);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, '{"version": 1, "key": ');
    assert.equal(await cache.get(key), undefined);
    await Deno.writeTextFile(path, JSON.stringify(entry(other)));
    assert.equal(await cache.get(key), undefined);
    await cache.set(entry(key));
    assert.equal((await cache.get(key))?.reply.score, 8);
  });
});

Deno.test("JudgeCache refuses a key that is not a sha256", async () => {
  await withCache(async (cache) => {
    await assert.rejects(() => cache.get("../../etc/passwd"), {
      name: "RangeError",
      message:
        'Cannot use judge cache key "../../etc/passwd": it must be 64 lower-case hex digits (a sha256)',
    });
  });
});

Deno.test("JudgeCache keeps every entry whole under concurrent writes", async () => {
  await withCache(async (cache) => {
    const key = judgeCacheKey(PARTS);
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          cache.set(
            entry(key, {
              reply: {
                reasoning: "x".repeat(10_000 * (i % 3)),
                score: i % 11,
                blame: null,
              },
            }),
          ),
      ),
    );
    const read = await cache.get(key);
    assert.ok(read !== undefined);
  });
});
