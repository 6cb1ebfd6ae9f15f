import type { GraphRole } from "../dsl/mod.ts";
import { checkContract, missingInputs } from "./check_contract.ts";
import type { EpisodeContext } from "./episode_context.ts";
import type {
  ActionEvent,
  Execution,
  FileChange,
  Message,
  PromptVariables,
} from "./events.ts";
import { extractOutputs } from "./extract_output.ts";
import {
  newMessages,
  newPromptIds,
  type PreviousAction,
} from "./_action_refs.ts";
import { codeBlocks, languageOf, splitReasoning } from "./parse_reply.ts";
import type {
  ChatMessage,
  ExecLimits,
  ModelResponse,
  ToolSpec,
} from "./ports.ts";
import { promptVariables, renderTemplate } from "./render_prompt.ts";
import {
  type ActionView,
  formatObservation,
  type RoleResult,
} from "./role_result.ts";
import { SpecRegex } from "./spec_regex.ts";

/** One piece of code the model asked to run. */
interface PendingCall {
  readonly tool: string;
  readonly language: "python" | "typescript";
  readonly code: string;
  readonly callId?: string;
}

/**
 * A failure of the infrastructure, not of the agent: the episode is worth running again on --resume (once
 * the server, the key or the model name is fixed). Server errors, rate limits, a refused key (401/403), an
 * unknown model or route (404), timeouts, broken bodies and provider refusals are; a request the server
 * finds malformed (400, 422: e.g. a context the agents made too long) is the episode's own.
 */
function transient(error: { kind: string; status?: number }): boolean {
  if (error.kind === "http") {
    const s = error.status;
    return s === undefined || s >= 500 || s === 429 || s === 401 ||
      s === 403 || s === 404 || s === 408;
  }
  return error.kind !== "aborted";
}

function limitsOf(ctx: EpisodeContext, tool: string): ExecLimits {
  const t = ctx.graph.tools[tool]!;
  const wall = Math.round(t.timeout_s * 1000);
  return {
    wall_ms: wall,
    cpu_s: Math.max(1, Math.ceil(t.timeout_s)),
    memory_mb: t.memory_mb,
    output_cap_bytes: t.output_cap_bytes,
    kill_output_bytes: Math.max(64 << 20, t.output_cap_bytes * 4),
    file_size_mb: Math.min(512, t.disk_mb),
    nproc: t.max_processes,
    disk_mb: t.disk_mb,
    max_files: t.max_files,
  };
}

function toolSpecs(ctx: EpisodeContext, role: GraphRole): ToolSpec[] {
  return role.tools.map((name) => {
    const t = ctx.graph.tools[name]!;
    return {
      name,
      description: t.description ??
        `Runs a ${t.language} program in the shared workspace and returns its output`,
      parameters: {
        type: "object",
        properties: {
          code: {
            type: "string",
            description: `The ${t.language} program to run`,
          },
        },
        required: ["code"],
      },
    };
  });
}

/** The code the reply asks to run, in order: fenced blocks of the role's tool languages, then tool calls. */
function pendingCalls(
  role: GraphRole,
  ctx: EpisodeContext,
  response: ModelResponse & { ok: true },
  answer: string,
) {
  const byLanguage = new Map<string, string>();
  for (const t of role.tools) byLanguage.set(ctx.graph.tools[t]!.language, t);
  const calls: PendingCall[] = [];
  let ignored = 0;
  const format = role.tool_calls.format;
  if (format === "fenced" || format === "both") {
    const source = role.tool_calls.scan_reasoning ? response.text : answer;
    for (const block of codeBlocks(source)) {
      const language = languageOf(block.lang);
      const tool = language && byLanguage.get(language);
      if (language && tool) calls.push({ tool, language, code: block.code });
      else if (language) ignored++;
    }
  }
  if (format === "openai" || format === "both") {
    for (const call of response.tool_calls) {
      const tool = role.tools.includes(call.name) ? call.name : undefined;
      let code: unknown;
      try {
        code = JSON.parse(call.arguments).code;
      } catch {
        code = undefined;
      }
      if (tool && typeof code === "string") {
        calls.push({
          tool,
          language: ctx.graph.tools[tool]!.language,
          code,
          callId: call.id,
        });
      } else ignored++;
    }
  }
  return { calls, ignored };
}

async function execute(
  ctx: EpisodeContext,
  call: PendingCall,
): Promise<Execution> {
  const limits = limitsOf(ctx, call.tool);
  const hidden = ctx.graph.tools[call.tool]!.hide_paths;
  const toolSlots = ctx.toolSlots.get(call.tool);
  const run = <T>(
    fn: () => Promise<T>,
  ) => (toolSlots ? toolSlots.use(() => fn()) : fn());
  const { result, changes } = await ctx.workspace.track(() =>
    run(() =>
      ctx.sandboxSlots.use((slot) =>
        ctx.sandbox.exec({
          language: call.language,
          code: call.code,
          workspace: ctx.workspaceDir,
          limits,
          slot,
          signal: ctx.signal,
          ...(hidden.length > 0 ? { hide_paths: hidden } : {}),
        })
      )
    )
  );
  return {
    tool: call.tool,
    language: call.language,
    code: call.code,
    ...(call.callId !== undefined ? { call_id: call.callId } : {}),
    status: result.status,
    exit_code: result.exit_code,
    signal: result.signal,
    wall_ms: result.wall_ms,
    stdout: result.stdout,
    stderr: result.stderr,
    ...(result.error ? { error: result.error } : {}),
    backend: result.backend,
    argv_hash: result.argv_hash,
    limits: { ...limits },
    files: changes,
  };
}

function modelCall(
  role: GraphRole,
  response: ModelResponse,
  previous: PreviousAction | undefined,
): ActionEvent["model_call"] {
  if (!response.ok) {
    return {
      ok: false,
      provider: response.provider,
      model: role.model,
      latency_ms: response.latency_ms,
      attempts: response.attempts,
      error: response.error,
    };
  }
  return {
    ok: true,
    provider: response.provider,
    model: role.model,
    model_name: response.model_name,
    finish_reason: response.finish_reason,
    usage: response.usage,
    latency_ms: response.latency_ms,
    cost_usd: response.cost_usd,
    attempts: response.attempts,
    ...(response.prompt_token_ids
      ? promptIds(previous, response.prompt_token_ids)
      : {}),
    ...(response.completion_token_ids
      ? { completion_token_ids: [...response.completion_token_ids] }
      : {}),
    ...(response.completion_logprobs
      ? { completion_logprobs: [...response.completion_logprobs] }
      : {}),
    ...(response.policy_version !== undefined
      ? { policy_version: response.policy_version }
      : {}),
  };
}

function promptIds(
  previous: PreviousAction | undefined,
  prompt: readonly number[],
): Pick<
  ActionEvent["model_call"],
  "prompt_token_ids" | "prompt_token_ids_ref"
> {
  const { ids, ref } = newPromptIds(previous, prompt);
  return {
    prompt_token_ids: [...ids],
    ...(ref ? { prompt_token_ids_ref: ref } : {}),
  };
}

/** The variables as the run log keeps them: JSON values only, `upstream` left to its copy in `handoffs`. */
function recordedVariables(vars: Record<string, unknown>): PromptVariables {
  const { upstream: _, ...rest } = vars;
  return JSON.parse(JSON.stringify(rest));
}

function toMessage(m: ChatMessage): Message {
  return {
    role: m.role,
    content: m.content,
    ...(m.tool_calls
      ? { tool_calls: m.tool_calls.map((c) => ({ ...c })) }
      : {}),
    ...(m.tool_call_id !== undefined ? { tool_call_id: m.tool_call_id } : {}),
  };
}

/**
 * Runs one role's turns in an episode: render its prompt, call its model, run the code it asks for in the
 * sandbox, return the observations as chat messages, until it makes no tool call, a reply matches its
 * `stop_pattern`, or `max_turns` is reached. Every generation with its executions is one action event;
 * a failed or empty reply is recorded and ends the role's turns, never the episode.
 */
export async function runRole(
  ctx: EpisodeContext,
  role: GraphRole,
  round: number,
): Promise<RoleResult> {
  const messages: ChatMessage[] = [];
  let previous: PreviousAction | undefined;
  const views: ActionView[] = [];
  const executions: Execution[] = [];
  const toolOutputs: string[] = [];
  const changed = new Map<string, FileChange>();
  let finalRaw = "";
  let finalAnswer = "";
  let contract: ActionEvent["contract"] = {
    missing_required: [],
    missing_inputs: [],
    invalid: [],
  };
  const stop = role.stop_pattern !== undefined
    ? SpecRegex.compile(role.stop_pattern)
    : undefined;
  const tools = role.tool_calls.format === "fenced" || role.tools.length === 0
    ? undefined
    : toolSpecs(ctx, role);

  for (let turn = 1; turn <= role.max_turns; turn++) {
    if (ctx.signal.aborted) break;
    const files = await ctx.workspace.files();
    const missingAtStart = missingInputs(role, files);
    let rendered: PromptVariables | undefined;
    if (turn === 1) {
      const vars = promptVariables(ctx.graph, role, ctx.task, ctx.results, {
        files,
        missing_inputs: missingAtStart,
        turn,
        round,
      });
      if (role.prompts.system !== undefined) {
        messages.push({
          role: "system",
          content: renderTemplate(role.prompts.system, vars),
        });
      }
      messages.push({
        role: "user",
        content: renderTemplate(role.prompts.user, vars),
      });
      rendered = recordedVariables(vars);
    }
    const sent = [...messages];
    const response = await ctx.model.complete({
      model: role.model,
      messages: [...messages],
      ...(tools ? { tools } : {}),
      role: role.id,
      episode: ctx.episodeId,
      task: ctx.task.id,
      turn,
      signal: ctx.signal,
    });
    const actionIndex = ctx.nextActionIndex();
    let stopReason: ActionEvent["stop_reason"];
    let actionExecutions: Execution[] = [];
    let ignored = 0;
    let reply: ChatMessage = { role: "assistant", content: "" };
    let reasoning = "";
    let answer = "";
    const observations: string[] = [];
    const followUp: ChatMessage[] = [];
    if (!response.ok) {
      stopReason = "model_error";
      if (transient(response.error)) ctx.failures.model++;
    } else {
      const split = splitReasoning(response.text);
      reasoning = response.reasoning ?? split.reasoning;
      reply = {
        role: "assistant",
        content: response.text,
        ...(response.tool_calls.length > 0
          ? { tool_calls: response.tool_calls }
          : {}),
      };
      finalRaw = response.text;
      finalAnswer = split.answer;
      answer = split.answer;
      if (response.text.trim() === "" && response.tool_calls.length === 0) {
        stopReason = "empty_reply";
      } else {
        const pending = pendingCalls(role, ctx, response, answer);
        ignored = pending.ignored;
        // Several blocks of one reply run one after another, each seeing the files the previous wrote.
        for (const call of pending.calls) {
          if (ctx.signal.aborted) break;
          const e = await execute(ctx, call);
          actionExecutions.push(e);
          for (const f of e.files) if (!f.rejected) changed.set(f.path, f);
          const text = formatObservation(
            e,
            executions.length + actionExecutions.length - 1,
          );
          observations.push(text);
          toolOutputs.push(text);
          if (call.callId !== undefined) {
            followUp.push({
              role: "tool",
              content: text,
              tool_call_id: call.callId,
            });
          }
        }
        const fencedObs = observations.filter((_, i) =>
          pending.calls[i]?.callId === undefined
        );
        if (fencedObs.length > 0) {
          followUp.push({ role: "user", content: fencedObs.join("\n\n") });
        }
        // Tool calls that did not run still need an answer, or the next request is malformed.
        for (const c of response.tool_calls) {
          if (!followUp.some((m) => m.tool_call_id === c.id)) {
            followUp.push({
              role: "tool",
              content:
                `Cannot run tool "${c.name}": the role has no such tool, or its arguments lack a "code" string`,
              tool_call_id: c.id,
            });
          }
        }
        if (pending.calls.length === 0) stopReason = "no_tool_call";
        else if (stop?.test(response.text)) stopReason = "stop_pattern";
        else if (turn === role.max_turns) stopReason = "max_turns";
        else stopReason = "continue";
      }
    }
    // An aborted episode is abandoned and runs again on --resume: its cut-short action is not recorded.
    if (ctx.signal.aborted) break;
    executions.push(...actionExecutions);
    // Held workspace: a concurrent role's execution cannot change the files while they are read.
    const check = async () =>
      checkContract(
        role,
        ctx.workspaceDir,
        await ctx.workspace.files(),
        missingAtStart,
      );
    contract = ctx.workspace.exclusive
      ? await ctx.workspace.exclusive(check)
      : await check();
    // Only what this action adds to the previous one's conversation: the log grows linearly in turns.
    const added = newMessages(previous, sent);
    await ctx.store.append({
      kind: "action",
      role: role.id,
      episode_id: ctx.episodeId,
      attempt: ctx.attempt,
      action_index: actionIndex,
      turn,
      round,
      messages: added.messages.map(toMessage),
      ...(added.ref ? { messages_ref: added.ref } : {}),
      reply: toMessage(reply),
      ...(tools ? { tools: tools.map((t) => ({ ...t })) } : {}),
      ...(reasoning !== "" ? { reasoning } : {}),
      // Most replies are their own answer: not written twice.
      ...(answer !== reply.content ? { answer } : {}),
      ...(rendered ? { prompt_variables: rendered } : {}),
      ...(stopReason !== "continue" && Object.keys(role.outputs).length > 0
        ? { outputs: extractOutputs(role.outputs, finalAnswer) }
        : {}),
      model_call: modelCall(role, response, previous),
      executions: actionExecutions,
      ignored_code_blocks: ignored,
      contract,
      stop_reason: stopReason,
    });
    previous = {
      index: actionIndex,
      sent,
      reply,
      ...(response.ok && response.prompt_token_ids
        ? { promptIds: response.prompt_token_ids }
        : {}),
      ...(response.ok && response.completion_token_ids
        ? { completionIds: response.completion_token_ids }
        : {}),
    };
    views.push({ turn, round, output: finalAnswer, reasoning, observations });
    actionExecutions = [];
    if (stopReason !== "continue") break;
    messages.push(reply, ...followUp);
  }

  const present = new Set(await ctx.workspace.files());
  const files = [...changed.values()].filter((f) =>
    f.change !== "deleted" && present.has(f.path)
  ).map((f) => f.path)
    .sort();
  const outputs = extractOutputs(role.outputs, finalAnswer);
  const result: RoleResult = {
    role: role.id,
    round,
    actions: views,
    final_text: finalAnswer,
    final_raw: finalRaw,
    tool_outputs: toolOutputs,
    last_tool_output: toolOutputs.at(-1) ?? null,
    files,
    outputs,
    executions,
  };
  if (ctx.signal.aborted) return result;
  await ctx.store.append({
    kind: "role_finished",
    role: role.id,
    episode_id: ctx.episodeId,
    attempt: ctx.attempt,
    round,
    actions: views.length,
    outputs,
    files_saved: files,
    contract,
  });
  return result;
}
