import { z } from "zod";
import type { ToolCall, Usage } from "../ports.ts";

// Loose objects: servers add fields (vLLM, SGLang, llama.cpp); only what we read is checked.
const TokenIdsSchema = z.array(z.number().int()).nullish();

const ToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({
    name: z.string(),
    // llama.cpp and some proxies send the arguments as an object, not JSON text.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())])
      .nullish(),
  }).nullish(),
});

const ContentSchema = z.union([
  z.string(),
  z.array(z.looseObject({ text: z.string().nullish() })),
]).nullish();

const ChoiceSchema = z.looseObject({
  finish_reason: z.string().nullish(),
  message: z.looseObject({
    content: ContentSchema,
    reasoning_content: z.string().nullish(),
    reasoning: z.string().nullish(),
    tool_calls: z.array(ToolCallSchema).nullish(),
  }),
  logprobs: z.looseObject({
    content: z.array(z.looseObject({ logprob: z.number() })).nullish(),
  }).nullish(),
  token_ids: TokenIdsSchema,
  prompt_token_ids: TokenIdsSchema,
});

/** The parts of an OpenAI chat completion (and vLLM's additions) that a model client reads. */
export const CompletionSchema = z.looseObject({
  model: z.string().nullish(),
  choices: z.array(ChoiceSchema).min(1),
  usage: z.looseObject({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
  }).nullish(),
  prompt_token_ids: TokenIdsSchema,
  /** The attached trainer's stamp: which version of the policy sampled this reply. */
  policy_version: z.number().int().min(0).nullish(),
});

/** What one chat completion says, in the port's terms. */
export interface Completion {
  readonly text: string;
  readonly reasoning?: string;
  readonly tool_calls: readonly ToolCall[];
  readonly finish_reason: string | null;
  /** Absent when the server sent no usage. */
  readonly usage?: Usage;
  readonly model_name?: string;
  readonly prompt_token_ids?: readonly number[];
  readonly completion_token_ids?: readonly number[];
  readonly completion_logprobs?: readonly number[];
  readonly policy_version?: number;
}

/** Reads a chat completion body; a body of another shape is a message naming the first problem. */
export function parseCompletion(
  body: unknown,
): { ok: true; completion: Completion } | { ok: false; message: string } {
  const parsed = CompletionSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join(".") : "the body";
    return {
      ok: false,
      message:
        `Cannot read the reply as a chat completion: at ${at}: ${issue.message}`,
    };
  }
  const data = parsed.data;
  const choice = data.choices[0]!;
  const message = choice.message;
  const content = message.content;
  const text = typeof content === "string"
    ? content
    : (content ?? []).map((part) => part.text ?? "").join("");
  const reasoning = message.reasoning_content ?? message.reasoning ?? undefined;
  const toolCalls: ToolCall[] = [];
  for (const [i, call] of (message.tool_calls ?? []).entries()) {
    if (call.function == null) continue; // custom (non-function) tools are not ours
    const args = call.function.arguments;
    toolCalls.push({
      id: call.id ?? `call_${i}`,
      name: call.function.name,
      arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
    });
  }
  const promptIds = data.prompt_token_ids ?? choice.prompt_token_ids;
  const logprobs = choice.logprobs?.content;
  return {
    ok: true,
    completion: {
      text,
      ...(reasoning !== undefined ? { reasoning } : {}),
      tool_calls: toolCalls,
      finish_reason: choice.finish_reason ?? null,
      ...(data.usage != null
        ? {
          usage: {
            prompt_tokens: data.usage.prompt_tokens,
            completion_tokens: data.usage.completion_tokens,
          },
        }
        : {}),
      ...(data.model != null ? { model_name: data.model } : {}),
      ...(promptIds != null ? { prompt_token_ids: promptIds } : {}),
      ...(choice.token_ids != null
        ? { completion_token_ids: choice.token_ids }
        : {}),
      ...(logprobs != null
        ? { completion_logprobs: logprobs.map((t) => t.logprob) }
        : {}),
      ...(data.policy_version != null
        ? { policy_version: data.policy_version }
        : {}),
    },
  };
}
