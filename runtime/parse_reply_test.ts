import assert from "node:assert/strict";
import { codeBlocks, languageOf, splitReasoning } from "./parse_reply.ts";

Deno.test("splitReasoning() takes <think> blocks and a lone closing tag as reasoning", () => {
  assert.deepEqual(splitReasoning("<think>plan</think>Answer 4"), {
    reasoning: "plan",
    answer: "Answer 4",
  });
  // Qwen3 thinking templates open the block in the prompt: the reply holds only the closing tag.
  assert.deepEqual(splitReasoning("let me see\n</think>\n\nThe answer is 4"), {
    reasoning: "let me see",
    answer: "The answer is 4",
  });
  assert.deepEqual(splitReasoning("no reasoning"), {
    reasoning: "",
    answer: "no reasoning",
  });
  assert.deepEqual(splitReasoning("<think>unfinished"), {
    reasoning: "unfinished",
    answer: "",
  });
});

Deno.test("codeBlocks() finds every fence with its language, and none in plain text", () => {
  const text =
    "Run:\n```python\nprint(1)\n```\nthen\n```ts\nconsole.log(2)\n```\n```\nplain\n```\n";
  assert.deepEqual(codeBlocks(text), [
    { lang: "python", code: "print(1)" },
    { lang: "ts", code: "console.log(2)" },
    { lang: "", code: "plain" },
  ]);
  assert.deepEqual(codeBlocks("inline `code` only"), []);
  assert.deepEqual(codeBlocks("````python\nx = '```'\n````"), [{
    lang: "python",
    code: "x = '```'",
  }]);
});

Deno.test("languageOf() maps fence tags to tool languages", () => {
  assert.equal(languageOf("py"), "python");
  assert.equal(languageOf("typescript"), "typescript");
  assert.equal(languageOf("bash"), undefined);
});
