import type { ChatMessage, ToolSpec } from "../runtime/mod.ts";

// The OpenAI chat shapes a model client sends (runtime/llm/openai_client.ts), so the trainer renders
// exactly the conversation an engine was sent when their token ids are compared.

/** A runtime message as it goes over the wire. */
export function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === "tool") {
    return {
      role: "tool",
      content: m.content,
      tool_call_id: m.tool_call_id ?? "",
    };
  }
  if (
    m.role === "assistant" && m.tool_calls !== undefined &&
    m.tool_calls.length > 0
  ) {
    return {
      role: "assistant",
      content: m.content,
      tool_calls: m.tool_calls.map((c) => ({
        id: c.id,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  }
  return { role: m.role, content: m.content };
}

/** A runtime tool as it goes over the wire. */
export function wireTool(t: ToolSpec): Record<string, unknown> {
  return {
    type: "function",
    function: {
      name: t.name,
      description: t.description,
      parameters: t.parameters,
    },
  };
}
