// The OpenAI chat shapes a model client sends are runtime's own (runtime/llm/openai_client.ts), so the
// trainer renders exactly the conversation an engine was sent when their token ids are compared.

export {
  openaiChatMessage as wireMessage,
  openaiChatTool as wireTool,
} from "../runtime/mod.ts";
