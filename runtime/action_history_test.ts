import assert from "node:assert/strict";
import { ActionHistory, resolveActionRefs } from "./action_history.ts";
import { type ActionEvent, type RunEvent, RunEventSchema } from "./events.ts";

const CONTRACT = { missing_required: [], missing_inputs: [], invalid: [] };

/** An action event as the runtime writes it (validated, so the fixture cannot drift from the schema). */
function action(
  index: number,
  fields: Partial<ActionEvent> & {
    prompt?: number[];
    promptRef?: { action: number; count: number };
    completion?: number[];
  },
  episode = "eval:1",
  attempt = 1,
): ActionEvent {
  const { prompt, promptRef, completion, ...rest } = fields;
  return RunEventSchema.parse({
    run_id: "r",
    step: index,
    ts: "",
    role: "solver",
    kind: "action",
    episode_id: episode,
    attempt,
    action_index: index,
    turn: index + 1,
    round: 1,
    messages: [],
    reply: { role: "assistant", content: `reply ${index}` },
    model_call: {
      ok: true,
      provider: "openai",
      model: "m",
      latency_ms: 1,
      attempts: 1,
      ...(prompt ? { prompt_token_ids: prompt } : {}),
      ...(promptRef ? { prompt_token_ids_ref: promptRef } : {}),
      ...(completion ? { completion_token_ids: completion } : {}),
    },
    executions: [],
    ignored_code_blocks: 0,
    contract: CONTRACT,
    stop_reason: "continue",
    ...rest,
  }) as ActionEvent;
}

const user = (content: string) => ({ role: "user" as const, content });

Deno.test("ActionHistory.resolve() rebuilds messages and prompt ids from the actions they continue", () => {
  const history = new ActionHistory();
  const a0 = history.resolve(action(0, {
    messages: [user("task")],
    prompt: [1, 2, 3],
    completion: [4, 5],
  }));
  assert.deepEqual(a0.messages, [user("task")]);
  const a1 = history.resolve(action(1, {
    messages: [user("observation 1")],
    messages_ref: { action: 0, count: 2 },
    prompt: [6],
    promptRef: { action: 0, count: 5 },
    completion: [7],
  }));
  assert.deepEqual(a1.messages, [
    user("task"),
    { role: "assistant", content: "reply 0" },
    user("observation 1"),
  ]);
  assert.deepEqual(a1.model_call.prompt_token_ids, [1, 2, 3, 4, 5, 6]);
  assert.equal("messages_ref" in a1, false);
  assert.equal("prompt_token_ids_ref" in a1.model_call, false);
  // A chain of references resolves through the resolved earlier action; a prefix may stop short of the reply.
  const a2 = history.resolve(action(2, {
    messages: [user("observation 2")],
    messages_ref: { action: 1, count: 4 },
    prompt: [8],
    promptRef: { action: 1, count: 3 },
  }));
  assert.deepEqual(a2.messages.map((m) => m.content), [
    "task",
    "reply 0",
    "observation 1",
    "reply 1",
    "observation 2",
  ]);
  assert.deepEqual(a2.model_call.prompt_token_ids, [1, 2, 3, 8]);
});

Deno.test("ActionHistory.resolve() returns events of old runs (full lists) unchanged", () => {
  const old = action(1, {
    messages: [user("task"), { role: "assistant", content: "r" }, user("o")],
    prompt: [1, 2, 3],
  });
  assert.equal(new ActionHistory().resolve(old), old);
  const events: RunEvent[] = [action(0, { messages: [user("task")] }), old];
  assert.deepEqual(resolveActionRefs(events), events);
});

Deno.test("ActionHistory.resolve() refuses references to actions of another attempt, later actions or too many items", () => {
  const history = new ActionHistory();
  history.resolve(action(0, { messages: [user("task")] }, "eval:1", 1));
  assert.throws(
    () =>
      history.resolve(
        action(1, { messages_ref: { action: 0, count: 1 } }, "eval:1", 2),
      ),
    {
      name: "ActionRefError",
      message:
        'Cannot resolve the messages of action 1 of episode "eval:1" attempt 2: they continue action 0, which is not recorded before it in that attempt',
    },
  );
  assert.throws(
    () => history.resolve(action(1, { messages_ref: { action: 0, count: 3 } })),
    /takes 3 items from an action that has 2/,
  );
  assert.throws(
    () => history.resolve(action(0, { messages_ref: { action: 0, count: 1 } })),
    /which is not recorded before it/,
  );
});

Deno.test("ActionHistory forgets an attempt once its episode_finished is read", () => {
  const history = new ActionHistory();
  history.resolve(action(0, { messages: [user("task")] }));
  history.resolve(RunEventSchema.parse({
    run_id: "r",
    step: 1,
    ts: "",
    role: null,
    kind: "episode_finished",
    episode_id: "eval:1",
    attempt: 1,
    status: "completed",
    actions: 1,
    wall_ms: 1,
    outputs: {},
    files: {},
  }));
  assert.throws(
    () => history.resolve(action(1, { messages_ref: { action: 0, count: 1 } })),
    /not recorded before it/,
  );
});
