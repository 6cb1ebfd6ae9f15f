import assert from "node:assert/strict";
import {
  newMessages,
  newPromptIds,
  type PreviousAction,
} from "./_action_refs.ts";
import type { ChatMessage } from "./ports.ts";

const task: ChatMessage = { role: "user", content: "task" };
const reply: ChatMessage = { role: "assistant", content: "code" };
const observation: ChatMessage = { role: "user", content: "stdout" };

Deno.test("newMessages() keeps only what follows the previous action's messages and reply", () => {
  assert.deepEqual(newMessages(undefined, [task]), { messages: [task] });
  const previous: PreviousAction = { index: 3, sent: [task], reply };
  assert.deepEqual(newMessages(previous, [task, reply, observation]), {
    messages: [observation],
    ref: { action: 3, count: 2 },
  });
  // Equal text is not enough: the turn loop's own message objects are what make a prefix.
  assert.deepEqual(
    newMessages(previous, [{ ...task }, reply]),
    { messages: [{ ...task }, reply] },
  );
});

Deno.test("newPromptIds() shares the longest prefix with the previous prompt and completion ids", () => {
  const previous: PreviousAction = {
    index: 0,
    sent: [task],
    reply,
    promptIds: [1, 2, 3],
    completionIds: [4, 5],
  };
  assert.deepEqual(newPromptIds(previous, [1, 2, 3, 4, 5, 6, 7]), {
    ids: [6, 7],
    ref: { action: 0, count: 5 },
  });
  // A chat template that re-renders the reply differently still shares the prompt's part.
  assert.deepEqual(newPromptIds(previous, [1, 2, 3, 9, 6]), {
    ids: [9, 6],
    ref: { action: 0, count: 3 },
  });
  assert.deepEqual(newPromptIds(previous, [8]), { ids: [8] });
  assert.deepEqual(newPromptIds({ index: 0, sent: [], reply }, [1]), {
    ids: [1],
  });
});
