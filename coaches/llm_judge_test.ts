import assert from "node:assert/strict";
import { OpenAIModelClient } from "../runtime/llm/openai_client.ts";
import { ScriptedModelClient } from "../runtime/llm/scripted_client.ts";
import {
  type FakeAction,
  type FakeOpenAIServer,
  startOpenAIServer,
} from "../tests/fakes/openai_server.ts";
import { JudgeBudget } from "./judge_budget.ts";
import { JudgeCache } from "./judge_cache.ts";
import { judgeAction, type JudgeActionOptions } from "./llm_judge.ts";
import {
  fixtureEvidence,
  fixtureJudgeClient,
  fixtureRubric,
  messagesOf,
} from "../tests/fixtures/llm_judge_fixture.ts";
import { JUDGE_RESPONSE_FORMAT } from "./llm_judge_request.ts";
import { renderJudgePrompt } from "./render_judge_prompt.ts";
import { type Verdict, VerdictSchema } from "./types.ts";

const JUDGE = {
  temperature: 0,
  seed: 17,
  max_retries: 2,
  structured_output: true,
};
const VALID = JSON.stringify({
  reasoning: "X_test.pkl is missing, so the analyst cannot predict",
  score: 2,
  blame: "data_engineer",
});

function say(text: string, fields: Record<string, unknown> = {}): FakeAction {
  return { kind: "reply", reply: { text, ...fields } };
}

interface Setup {
  readonly server: FakeOpenAIServer;
  readonly client: OpenAIModelClient;
  readonly options: JudgeActionOptions;
}

/** A loopback server, an OpenAI client for it (priced, fast backoff) and judge options. */
async function withJudge(
  queue: FakeAction[],
  body: (s: Setup) => Promise<void>,
  model: Record<string, unknown> = {},
  options: Partial<JudgeActionOptions> = {},
): Promise<void> {
  await using server = await startOpenAIServer({ queue });
  const client = fixtureJudgeClient(server.url, model);
  await body({
    server,
    client,
    options: { client, model: "judge", judge: JUDGE, ...options },
  });
}

function valid(verdict: Verdict): Verdict {
  return VerdictSchema.parse(verdict);
}

async function withCacheDir(body: (cache: JudgeCache) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "llm_judge_test_" });
  try {
    await body(new JudgeCache({ dir }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("judgeAction() scores a structured reply and records the call", async () => {
  await withJudge([say(VALID)], async ({ server, options }) => {
    const evidence = fixtureEvidence({ action_index: 3 });
    const verdict = valid(
      await judgeAction(evidence, fixtureRubric(), options),
    );
    const prompt = renderJudgePrompt(evidence, fixtureRubric());
    assert.equal(verdict.status, "scored");
    assert.equal(verdict.raw_score, 2);
    assert.equal(verdict.score, 2);
    assert.equal(verdict.reason, undefined);
    assert.equal(verdict.blame, "data_engineer");
    assert.match(verdict.reasoning, /X_test\.pkl is missing/);
    assert.deepEqual(verdict.applied, []);
    assert.deepEqual(
      [verdict.run_id, verdict.episode_id, verdict.action_index, verdict.role],
      ["dsbench__0__1", "eval:t1", 3, "data_engineer"],
    );
    assert.deepEqual(verdict.rubric, { name: "dsbench", hash: "0123456789ab" });
    const { latency_ms, ...judge } = verdict.judge;
    assert.ok(latency_ms > 0);
    assert.deepEqual(judge, {
      kind: "llm",
      model: "judge",
      model_name: "judge-model",
      temperature: 0,
      seed: 17,
      prompt_sha256: prompt.sha256,
      raw: [VALID],
      attempts: 1,
      prompt_tokens: 10,
      completion_tokens: 5,
      cost_usd: (10 * 1000 + 5 * 2000) / 1e6,
      cache_hit: false,
    });
    assert.equal(messagesOf(server, 0)[1]?.content, prompt.text);
  });
});

Deno.test("judgeAction() sends the JSON Schema response format, temperature 0 and the seed", async () => {
  await withJudge([say(VALID)], async ({ server, options }) => {
    await judgeAction(fixtureEvidence(), fixtureRubric(), {
      ...options,
      judge: { ...JUDGE, max_tokens: 256 },
    });
    const body = server.requests[0]?.body as Record<string, unknown>;
    assert.deepEqual(body.response_format, {
      type: "json_schema",
      json_schema: {
        name: "judge_verdict",
        schema: JUDGE_RESPONSE_FORMAT.schema,
        strict: true,
      },
    });
    const schema = JUDGE_RESPONSE_FORMAT.schema as {
      properties: object;
      required: string[];
      additionalProperties: boolean;
    };
    assert.deepEqual(Object.keys(schema.properties), [
      "reasoning",
      "score",
      "blame",
    ]);
    assert.equal(schema.additionalProperties, false);
    assert.ok(!("$schema" in schema));
    assert.equal(body.model, "judge-model");
    assert.equal(body.temperature, 0);
    assert.equal(body.seed, 17);
    assert.equal(body.max_tokens, 256);
    const [system, user] = messagesOf(server, 0);
    assert.equal(system?.role, "system");
    assert.match(system!.content, /First state the evidence .* then the score/);
    assert.match(system!.content, /a number from 0 to 10/);
    assert.equal(user?.role, "user");
  }, { sampling: { temperature: 0.9, seed: 1 } });
});

Deno.test("judgeAction() reads an unstructured reply with the fallback parser", async (t) => {
  await t.step("without structured output", async () => {
    const reply =
      "1. **Files check**: X_test.pkl missing\nROC-AUC 0.85\nPROCESS_SCORE: [3]";
    await withJudge([say(reply)], async ({ server, options }) => {
      const verdict = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), {
          ...options,
          judge: { ...JUDGE, structured_output: false },
        }),
      );
      assert.equal(verdict.score, 3);
      assert.equal(verdict.reasoning, reply);
      assert.deepEqual(verdict.judge.raw, [reply]);
      assert.ok(!("response_format" in (server.requests[0]?.body as object)));
    });
  });
  await t.step("from a server that ignores the response format", async () => {
    await withJudge(
      [say("Saved two of three files.\n**Score:** 4")],
      async ({ options }) => {
        const verdict = await judgeAction(
          fixtureEvidence(),
          fixtureRubric(),
          options,
        );
        assert.equal(verdict.status, "scored");
        assert.equal(verdict.score, 4);
      },
    );
  });
  await t.step("a markdown-wrapped JSON verdict", async () => {
    await withJudge(
      [say("Verdict:\n```json\n" + VALID + "\n```")],
      async ({ options }) => {
        const verdict = await judgeAction(
          fixtureEvidence(),
          fixtureRubric(),
          options,
        );
        assert.equal(verdict.score, 2);
        assert.equal(verdict.blame, "data_engineer");
        assert.equal(verdict.judge.attempts, 1);
      },
    );
  });
  await t.step(
    "reasoning returned apart from the text is kept whole",
    async () => {
      await withJudge(
        [say(VALID, { reasoning_content: "Score: 9 maybe? No." })],
        async ({ options }) => {
          const verdict = await judgeAction(
            fixtureEvidence(),
            fixtureRubric(),
            options,
          );
          assert.equal(verdict.score, 2);
          assert.deepEqual(verdict.judge.raw, [
            `<think>Score: 9 maybe? No.</think>${VALID}`,
          ]);
        },
      );
    },
  );
});

Deno.test("judgeAction() retries malformed JSON, re-sending the full prompt", async () => {
  const broken = '{"reasoning": "the data engineer';
  await withJudge([say(broken), say(VALID)], async ({ server, options }) => {
    const verdict = valid(
      await judgeAction(fixtureEvidence(), fixtureRubric(), options),
    );
    assert.equal(verdict.status, "scored");
    assert.equal(verdict.score, 2);
    assert.equal(server.requests.length, 2);
    const first = messagesOf(server, 0);
    const retry = messagesOf(server, 1);
    assert.equal(first.length, 2);
    assert.deepEqual(retry.slice(0, 2), first);
    assert.equal(
      retry[1]?.content,
      renderJudgePrompt(fixtureEvidence(), fixtureRubric()).text,
    );
    assert.deepEqual(retry[2], { role: "assistant", content: broken });
    assert.equal(retry[3]?.role, "user");
    assert.match(
      retry[3]!.content,
      /^Your reply cannot be used: Cannot read the judge reply: its JSON verdict is cut off/,
    );
    assert.match(retry[3]!.content, /a number from 0 to 10/);
    assert.deepEqual(verdict.judge.raw, [broken, VALID]);
    assert.equal(verdict.judge.attempts, 2);
    assert.equal(verdict.judge.prompt_tokens, 20);
    assert.equal(verdict.judge.completion_tokens, 10);
    const body = server.requests[1]?.body as Record<string, unknown>;
    assert.equal(body.seed, 17);
    assert.ok("response_format" in body);
  });
});

Deno.test("judgeAction() gives verdict_parse_failure when no retry yields a score", async () => {
  const replies = ["I cannot decide.", "1. **Files check**", "ROC-AUC 0.85"];
  await withJudge(replies.map((r) => say(r)), async ({ server, options }) => {
    const verdict = valid(
      await judgeAction(fixtureEvidence(), fixtureRubric(), options),
    );
    assert.equal(verdict.status, "unscored");
    assert.equal(verdict.reason, "verdict_parse_failure");
    assert.equal(verdict.score, null);
    assert.equal(verdict.raw_score, null);
    assert.equal(verdict.blame, null);
    assert.deepEqual(verdict.judge.raw, replies);
    assert.equal(verdict.judge.attempts, 3);
    assert.equal(server.requests.length, 3);
    assert.match(
      verdict.reasoning,
      /^Cannot judge action 0 of role "data_engineer": no valid verdict in 3 replies \(3 HTTP attempts\); the last: Cannot find a score/,
    );
  });
});

Deno.test("judgeAction() retries a JSON verdict cut off after its score, and leaves the action unscored if it stays cut (never 8)", async () => {
  const cut = '{"reasoning": "X_test.pkl is missing", "score": 8, "b';
  await withJudge([say(cut), say(VALID)], async ({ server, options }) => {
    const verdict = valid(
      await judgeAction(fixtureEvidence(), fixtureRubric(), options),
    );
    assert.equal(verdict.score, 2);
    assert.equal(server.requests.length, 2);
    assert.match(
      messagesOf(server, 1)[3]!.content,
      /^Your reply cannot be used: .*JSON verdict is cut off/,
    );
  });
  await withJudge(
    [say(cut), say(cut), say(cut)],
    async ({ server, options }) => {
      const verdict = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), options),
      );
      assert.equal(verdict.status, "unscored");
      assert.equal(verdict.reason, "verdict_parse_failure");
      assert.equal(verdict.score, null);
      assert.equal(verdict.raw_score, null);
      assert.equal(server.requests.length, 3);
      assert.match(verdict.reasoning, /JSON verdict is cut off/);
    },
  );
});

Deno.test("judgeAction() gives out_of_scale after retries, never clamping", async () => {
  const high = JSON.stringify({ reasoning: "great", score: 12, blame: null });
  await withJudge(
    [say(high), say(high), say("SCORE: 11")],
    async ({ server, options }) => {
      const verdict = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), options),
      );
      assert.equal(verdict.status, "unscored");
      assert.equal(verdict.reason, "out_of_scale");
      assert.equal(verdict.score, null);
      assert.equal(server.requests.length, 3);
      assert.match(
        messagesOf(server, 1)[3]!.content,
        /Cannot accept score 12: the rubric's scale is 0 to 10/,
      );
      assert.match(verdict.reasoning, /the last: Cannot accept score 11/);
    },
  );
  await withJudge([say(high), say(VALID)], async ({ options }) => {
    const verdict = await judgeAction(
      fixtureEvidence(),
      fixtureRubric(),
      options,
    );
    assert.equal(verdict.score, 2);
  });
});

Deno.test("judgeAction() lets the client retry a 429, then gives judge_error when retries are spent", async () => {
  const busy: FakeAction = {
    kind: "status",
    status: 429,
    headers: { "retry-after-ms": "10" },
    message: "rate limited",
  };
  await withJudge([busy, say(VALID)], async ({ server, options }) => {
    const verdict = await judgeAction(
      fixtureEvidence(),
      fixtureRubric(),
      options,
    );
    assert.equal(verdict.score, 2);
    // The client's retry is an HTTP attempt of the judge's too.
    assert.equal(verdict.judge.attempts, 2);
    assert.equal(server.requests.length, 2);
  });
  await withJudge(
    [busy, busy, busy, say(VALID)],
    async ({ server, options }) => {
      const verdict = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), options),
      );
      assert.equal(verdict.status, "unscored");
      assert.equal(verdict.reason, "judge_error");
      assert.equal(verdict.score, null);
      assert.match(
        verdict.reasoning,
        /^Cannot judge action 0 of role "data_engineer": Cannot get a reply .*3 attempts failed.*HTTP 429: rate limited$/,
      );
      assert.equal(server.requests.length, 3); // the client's attempts; the judge adds none
      assert.equal(verdict.judge.attempts, 3, "every HTTP attempt recorded");
      assert.deepEqual(verdict.judge.raw, []);
      assert.equal(verdict.judge.cost_usd, 0);
    },
  );
});

Deno.test("judgeAction() gives judge_error when every attempt times out", async () => {
  await withJudge([{ kind: "hang" }, say(VALID)], async ({ options }) => {
    const verdict = await judgeAction(
      fixtureEvidence(),
      fixtureRubric(),
      options,
    );
    assert.equal(verdict.score, 2);
  }, { timeout_s: 0.2, max_retries: 1 });
  await withJudge(
    [{ kind: "hang" }, { kind: "hang" }],
    async ({ server, options }) => {
      const verdict = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), options),
      );
      assert.equal(verdict.reason, "judge_error");
      assert.match(
        verdict.reasoning,
        /the last with timeout: no complete reply within timeout_s = 0\.2$/,
      );
      assert.equal(server.requests.length, 2);
    },
    { timeout_s: 0.2, max_retries: 1 },
  );
});

Deno.test("judgeAction() gives judge_error without a call when aborted", async () => {
  await withJudge([say(VALID)], async ({ server, options }) => {
    const verdict = await judgeAction(fixtureEvidence(), fixtureRubric(), {
      ...options,
      signal: AbortSignal.abort(),
    });
    assert.equal(verdict.reason, "judge_error");
    assert.match(verdict.reasoning, /aborted/);
    assert.equal(server.requests.length, 0);
  });
});

Deno.test("judgeAction() leaves actions unscored once the budget is spent, sending nothing", async (t) => {
  await t.step("max_calls", async () => {
    await withJudge(
      [say(VALID), say(VALID), say(VALID)],
      async ({ server, options }) => {
        const budget = new JudgeBudget({ max_calls: 2 });
        const verdicts = [];
        for (const i of [0, 1, 2]) {
          verdicts.push(valid(
            await judgeAction(
              fixtureEvidence({ action_index: i }),
              fixtureRubric(),
              {
                ...options,
                budget,
              },
            ),
          ));
        }
        assert.deepEqual(verdicts.map((v) => v.status), [
          "scored",
          "scored",
          "unscored",
        ]);
        const last = verdicts[2]!;
        assert.equal(last.reason, "budget");
        assert.equal(last.score, null);
        assert.equal(last.judge.attempts, 0);
        assert.equal(last.judge.cost_usd, 0);
        assert.equal(
          last.reasoning,
          'Cannot judge action 2 of role "data_engineer": the judge budget is spent (2 of max_calls 2 judge calls made)',
        );
        assert.equal(server.requests.length, 2);
        assert.equal(budget.calls, 2);
      },
    );
  });
  await t.step("max_usd", async () => {
    await withJudge([say(VALID), say(VALID)], async ({ server, options }) => {
      const budget = new JudgeBudget({ max_usd: 0.02 }); // one call costs 0.02
      const a = await judgeAction(
        fixtureEvidence({ action_index: 0 }),
        fixtureRubric(),
        { ...options, budget },
      );
      const b = await judgeAction(
        fixtureEvidence({ action_index: 1 }),
        fixtureRubric(),
        { ...options, budget },
      );
      assert.equal(a.status, "scored");
      assert.equal(b.reason, "budget");
      assert.match(b.reasoning, /0\.02 of max_usd 0\.02 USD spent/);
      assert.equal(server.requests.length, 1);
    });
  });
  await t.step("between a retry and the next", async () => {
    await withJudge(
      [say("no score here"), say(VALID)],
      async ({ server, options }) => {
        const budget = new JudgeBudget({ max_calls: 1 });
        const verdict = valid(
          await judgeAction(fixtureEvidence(), fixtureRubric(), {
            ...options,
            budget,
          }),
        );
        assert.equal(verdict.reason, "budget");
        assert.deepEqual(verdict.judge.raw, ["no score here"]);
        assert.equal(server.requests.length, 1);
      },
    );
  });
});

Deno.test("judgeAction() answers an unchanged judgement from the cache with no call", async () => {
  await withCacheDir(async (cache) => {
    await withJudge([say(VALID), say(VALID)], async ({ server, options }) => {
      const first = await judgeAction(fixtureEvidence(), fixtureRubric(), {
        ...options,
        cache,
      });
      assert.equal(first.judge.cache_hit, false);
      assert.equal(server.requests.length, 1);
      const again = valid(
        await judgeAction(fixtureEvidence(), fixtureRubric(), {
          ...options,
          cache,
        }),
      );
      assert.equal(server.requests.length, 1);
      assert.equal(again.judge.cache_hit, true);
      assert.equal(again.score, first.score);
      assert.equal(again.reasoning, first.reasoning);
      assert.equal(again.blame, first.blame);
      assert.deepEqual(again.judge.raw, first.judge.raw);
      assert.equal(again.judge.prompt_sha256, first.judge.prompt_sha256);
      assert.equal(again.judge.attempts, 0);
      assert.equal(again.judge.cost_usd, 0);
      const budget = new JudgeBudget({ max_calls: 0 });
      const spent = await judgeAction(fixtureEvidence(), fixtureRubric(), {
        ...options,
        cache,
        budget,
      });
      assert.equal(spent.score, 2); // a cache hit needs no budget
      const changed = fixtureRubric({
        template: "Judge {{ role.id }}: {{ action.output }}",
      });
      const rescored = await judgeAction(fixtureEvidence(), changed, {
        ...options,
        cache,
      });
      assert.equal(rescored.judge.cache_hit, false);
      assert.equal(server.requests.length, 2);
      await judgeAction(fixtureEvidence(), changed, { ...options, cache });
      assert.equal(server.requests.length, 2);
    });
  });
});

Deno.test("judgeAction() misses the cache when the judge parameters or the endpoint change", async () => {
  await withCacheDir(async (cache) => {
    await withJudge(
      [say(VALID), say(VALID), say(VALID), say(VALID)],
      async ({ server, options }) => {
        const o = { ...options, cache };
        await judgeAction(fixtureEvidence(), fixtureRubric(), o);
        await judgeAction(fixtureEvidence(), fixtureRubric(), {
          ...o,
          judge: { ...JUDGE, seed: 18 },
        });
        await judgeAction(fixtureEvidence(), fixtureRubric(), {
          ...o,
          judge: { ...JUDGE, structured_output: false },
        });
        await judgeAction(fixtureEvidence(), fixtureRubric(), {
          ...o,
          endpoint: { model_name: "other-model", base_url: server.url },
        });
        assert.equal(server.requests.length, 4);
      },
    );
  });
});

Deno.test("judgeAction() caches no error and no out-of-scale reply", async () => {
  await withCacheDir(async (cache) => {
    const high = say('{"reasoning": "r", "score": 99, "blame": null}');
    await withJudge(
      [
        { kind: "status", status: 400, message: "bad" },
        high,
        high,
        high,
        say(VALID),
      ],
      async ({ server, options }) => {
        const o = { ...options, cache };
        assert.equal(
          (await judgeAction(fixtureEvidence(), fixtureRubric(), o)).reason,
          "judge_error",
        );
        assert.equal(
          (await judgeAction(fixtureEvidence(), fixtureRubric(), o)).reason,
          "out_of_scale",
        );
        const scored = await judgeAction(fixtureEvidence(), fixtureRubric(), o);
        assert.equal(scored.score, 2);
        assert.equal(scored.judge.cache_hit, false);
        assert.equal(server.requests.length, 5);
      },
    );
  });
});

Deno.test("judgeAction() never caches scripted replies, and the scripted client ignores the format", async () => {
  await withCacheDir(async (cache) => {
    const client = new ScriptedModelClient({
      after_last: "repeat_last",
      roles: { data_engineer: ["SCORE: 3", VALID] },
      tasks: {},
    });
    const options = { client, model: "judge", judge: JUDGE, cache };
    const first = await judgeAction(
      fixtureEvidence(),
      fixtureRubric(),
      options,
    );
    const second = await judgeAction(
      fixtureEvidence(),
      fixtureRubric(),
      options,
    );
    assert.deepEqual([first.score, second.score], [3, 2]);
    assert.equal(second.judge.cache_hit, false);
    assert.equal(first.judge.model_name, "scripted");
    assert.equal(first.judge.cost_usd, null);
    assert.deepEqual([...Deno.readDirSync(cache.dir)], []);
  });
});

Deno.test("judgeAction() refuses a rubric without a template", async () => {
  const { template: _, ...deterministic } = fixtureRubric();
  const client = new ScriptedModelClient({
    after_last: "repeat_last",
    roles: {},
    tasks: {},
  });
  await assert.rejects(
    () =>
      judgeAction(fixtureEvidence(), deterministic, {
        client,
        model: "judge",
        judge: JUDGE,
      }),
    { name: "TypeError", message: /it has no template/ },
  );
});
