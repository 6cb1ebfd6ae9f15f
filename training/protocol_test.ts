import assert from "node:assert/strict";
import { parseCompletion } from "../runtime/llm/_completion.ts";
import {
  PolicyConfigSchema,
  PolicyStateSchema,
  protocolJsonSchemas,
  TrainerErrorBodySchema,
  TrainerInfoSchema,
  TrainLineSchema,
  TrainRequestSchema,
} from "./protocol.ts";
import { TrainerClient, TrainerError } from "./trainer_client.ts";

// The Python trainer's request/response fixtures (trainer/tests/fixtures, recorded from the real
// server) read through this side's schemas and client: the two sides of protocol 1 agree.

interface Case {
  readonly name: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly body?: unknown;
  };
  readonly response: {
    readonly status: number;
    readonly example: unknown;
  };
}

async function fixture(endpoint: string): Promise<Case[]> {
  const text = await Deno.readTextFile(
    new URL(`../trainer/tests/fixtures/${endpoint}.json`, import.meta.url),
  );
  return JSON.parse(text).cases;
}

Deno.test("trainer/schemas/*.json are what training/protocol.ts exports (deno task trainer:schemas)", async () => {
  for (const [name, schema] of Object.entries(protocolJsonSchemas())) {
    const file = new URL(`../trainer/schemas/${name}.json`, import.meta.url);
    assert.equal(
      await Deno.readTextFile(file),
      JSON.stringify(schema, null, 2) + "\n",
      `trainer/schemas/${name}.json is stale: run deno task trainer:schemas`,
    );
  }
});

Deno.test("the trainer's recorded replies parse with this side's schemas", async (t) => {
  await t.step("info", async () => {
    for (const c of await fixture("info")) {
      assert(TrainerInfoSchema.safeParse(c.response.example).success, c.name);
    }
  });
  await t.step(
    "policies: the requests this side sends, the states it reads",
    async () => {
      for (const c of await fixture("put_policy")) {
        if (
          c.response.status !== 200 || c.name === "defaults_for_missing_fields"
        ) continue;
        assert(PolicyConfigSchema.safeParse(c.request.body).success, c.name);
        assert(PolicyStateSchema.safeParse(c.response.example).success, c.name);
      }
      for (
        const c of [...await fixture("get_policy"), ...await fixture("restore")]
      ) {
        const schema = c.response.status === 200
          ? PolicyStateSchema
          : TrainerErrorBodySchema;
        assert(schema.safeParse(c.response.example).success, c.name);
      }
    },
  );
  await t.step(
    "train: request, NDJSON lines and every error body",
    async () => {
      for (const c of await fixture("train")) {
        if (c.response.status === 200) {
          assert(TrainRequestSchema.safeParse(c.request.body).success, c.name);
          for (const line of c.response.example as unknown[]) {
            assert(
              TrainLineSchema.safeParse(line).success,
              `${c.name}: ${JSON.stringify(line)}`,
            );
          }
        } else {
          assert(
            TrainerErrorBodySchema.safeParse(c.response.example).success,
            c.name,
          );
        }
      }
    },
  );
  await t.step(
    "chat completions: the runtime reads ids, logprobs and the policy version",
    async () => {
      for (const c of await fixture("chat_completions")) {
        if (c.response.status !== 200) continue;
        const read = parseCompletion(c.response.example);
        assert(read.ok, c.name);
        const body = c.response.example as {
          policy_version: number;
          prompt_token_ids: number[];
          choices: { token_ids: number[] }[];
        };
        assert.equal(read.completion.policy_version, body.policy_version);
        assert.deepEqual(
          read.completion.prompt_token_ids,
          body.prompt_token_ids,
        );
        assert.deepEqual(
          read.completion.completion_token_ids,
          body.choices[0]!.token_ids,
        );
        assert.equal(
          read.completion.completion_logprobs?.length,
          body.choices[0]!.token_ids.length,
        );
      }
    },
  );
});

Deno.test("TrainerClient turns each recorded /v1/train reply into a result or the right TrainerError", async () => {
  for (const c of await fixture("train")) {
    const example = c.response.example;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        c.response.status === 200
          ? new Response(
            (example as unknown[]).map((l) => JSON.stringify(l) + "\n").join(
              "",
            ),
            { headers: { "content-type": "application/x-ndjson" } },
          )
          : Response.json(example, { status: c.response.status }),
    );
    try {
      const client = new TrainerClient(`http://127.0.0.1:${server.addr.port}`);
      const body = c.request.body as Parameters<TrainerClient["train"]>[0];
      if (c.response.status === 200) {
        const done = await client.train(body);
        assert.equal(done.new_version, body.expected_version + 1, c.name);
      } else {
        const err = await client.train(body).catch((e) => e);
        assert(err instanceof TrainerError, c.name);
        assert.equal(err.status, c.response.status, c.name);
        assert.equal(err.code, (example as { error: string }).error, c.name);
      }
    } finally {
      await server.shutdown();
    }
  }
});
