import assert from "node:assert/strict";
import { parseCompletion } from "./_completion.ts";

Deno.test("parseCompletion() reads content parts, object arguments and missing ids", () => {
  const parsed = parseCompletion({
    choices: [{
      finish_reason: "tool_calls",
      message: {
        content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
        reasoning: "why",
        tool_calls: [
          { function: { name: "python", arguments: { code: "1" } } },
          { id: "c2", type: "custom", custom: { name: "x", input: "" } },
        ],
      },
    }],
  });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.completion, {
    text: "ab",
    reasoning: "why",
    tool_calls: [{ id: "call_0", name: "python", arguments: '{"code":"1"}' }],
    finish_reason: "tool_calls",
  });
});

Deno.test("parseCompletion() names the first problem of a body of another shape", () => {
  assert.deepEqual(parseCompletion("<html>"), {
    ok: false,
    message:
      "Cannot read the reply as a chat completion: at the body: Invalid input: expected object, received string",
  });
  const noChoices = parseCompletion({ choices: [] });
  assert.ok(!noChoices.ok);
  assert.match(noChoices.message, /at choices:/);
  const badUsage = parseCompletion({
    choices: [{ message: { content: "x" } }],
    usage: { prompt_tokens: "many", completion_tokens: 1 },
  });
  assert.ok(!badUsage.ok);
  assert.match(badUsage.message, /at usage\.prompt_tokens:/);
});
