import type { ActionEvent, Message, PrefixRef, RunEvent } from "./events.ts";

/** What later actions of an attempt may reference: an action's full messages and reply, and its token ids. */
interface Recorded {
  readonly messages: readonly Message[];
  readonly reply: Message;
  readonly prompt?: readonly number[];
  readonly completion?: readonly number[];
}

/** Thrown when an action references an action its attempt has not recorded before it. */
export class ActionRefError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ActionRefError";
  }
}

/**
 * Resolves the references of action events (`messages_ref`, `model_call.prompt_token_ids_ref`) into full
 * lists, for readers that want every action's exact context whatever format wrote the run: actions of
 * old runs (full lists) come back unchanged. Feed it a run's events in log order; an attempt's memory is
 * dropped at its `episode_finished`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ActionHistory } from "./action_history.ts";
 * import type { ActionEvent } from "./events.ts";
 * const action = (index: number, more: Partial<ActionEvent>): ActionEvent => ({
 *   run_id: "r", step: index, ts: "", role: "solver", kind: "action", episode_id: "eval:1", attempt: 1,
 *   action_index: index, turn: index + 1, round: 1, messages: [],
 *   reply: { role: "assistant", content: `reply ${index}` },
 *   model_call: { ok: true, provider: "scripted", model: "m", latency_ms: 0, attempts: 1 },
 *   executions: [], ignored_code_blocks: 0, stop_reason: "continue",
 *   contract: { missing_required: [], missing_inputs: [], invalid: [] }, ...more,
 * });
 * const history = new ActionHistory();
 * history.resolve(action(0, { messages: [{ role: "user", content: "2 + 2?" }] }));
 * const full = history.resolve(action(1, {
 *   messages_ref: { action: 0, count: 2 },
 *   messages: [{ role: "user", content: "stdout: 4" }],
 * }));
 * assert.deepEqual(full.messages.map((m) => m.content), ["2 + 2?", "reply 0", "stdout: 4"]);
 * assert.equal("messages_ref" in full, false);
 * ```
 */
export class ActionHistory {
  readonly #attempts = new Map<string, Map<number, Recorded>>();

  /**
   * The event with its references resolved: an action gets its full `messages` and `prompt_token_ids`
   * (the `_ref` keys removed); other events come back as given. Throws {@linkcode ActionRefError} for a
   * reference to an action not seen before in the same attempt, or to more items than it holds.
   */
  resolve<E extends RunEvent>(event: E): E {
    if (event.kind === "episode_finished") {
      this.#attempts.delete(attemptKey(event.episode_id, event.attempt));
      return event;
    }
    if (event.kind !== "action") return event;
    const key = attemptKey(event.episode_id, event.attempt);
    let actions = this.#attempts.get(key);
    if (actions === undefined) this.#attempts.set(key, actions = new Map());
    const full = expand(event, actions);
    const call = full.model_call;
    actions.set(full.action_index, {
      messages: full.messages,
      reply: full.reply,
      ...(call.prompt_token_ids ? { prompt: call.prompt_token_ids } : {}),
      ...(call.completion_token_ids
        ? { completion: call.completion_token_ids }
        : {}),
    });
    return full as E;
  }
}

/**
 * A run's events with every action's references resolved (see {@linkcode ActionHistory}); for readers
 * holding a whole events.jsonl in memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveActionRefs } from "./action_history.ts";
 * assert.deepEqual(resolveActionRefs([]), []);
 * ```
 */
export function resolveActionRefs(events: readonly RunEvent[]): RunEvent[] {
  const history = new ActionHistory();
  return events.map((e) => history.resolve(e));
}

function attemptKey(episode: string, attempt: number): string {
  return `${attempt}#${episode}`;
}

function expand(
  event: ActionEvent,
  actions: ReadonlyMap<number, Recorded>,
): ActionEvent {
  const { messages_ref, ...rest } = event;
  const { prompt_token_ids_ref, ...call } = event.model_call;
  if (messages_ref === undefined && prompt_token_ids_ref === undefined) {
    return event;
  }
  const where =
    `action ${event.action_index} of episode "${event.episode_id}" attempt ${event.attempt}`;
  const source = (ref: PrefixRef, what: string): Recorded => {
    const found = actions.get(ref.action);
    if (found === undefined || ref.action >= event.action_index) {
      throw new ActionRefError(
        `Cannot resolve the ${what} of ${where}: they continue action ${ref.action}, which is not recorded before it in that attempt`,
      );
    }
    return found;
  };
  let messages = event.messages;
  if (messages_ref !== undefined) {
    const from = source(messages_ref, "messages");
    messages = [
      ...prefix(
        from.messages,
        [from.reply],
        messages_ref.count,
        `Cannot resolve the messages of ${where}`,
      ),
      ...messages,
    ];
  }
  let prompt = call.prompt_token_ids;
  if (prompt_token_ids_ref !== undefined) {
    const from = source(prompt_token_ids_ref, "prompt token ids");
    prompt = [
      ...prefix(
        from.prompt ?? [],
        from.completion ?? [],
        prompt_token_ids_ref.count,
        `Cannot resolve the prompt token ids of ${where}`,
      ),
      ...(prompt ?? []),
    ];
  }
  return {
    ...rest,
    messages,
    model_call: {
      ...call,
      ...(prompt !== undefined ? { prompt_token_ids: prompt } : {}),
    },
  };
}

/** The first `count` items of `head` then `tail`, without copying them twice. */
function prefix<T>(
  head: readonly T[],
  tail: readonly T[],
  count: number,
  what: string,
): readonly T[] {
  if (count > head.length + tail.length) {
    throw new ActionRefError(
      `${what}: its reference takes ${count} items from an action that has ${
        head.length + tail.length
      }`,
    );
  }
  return count <= head.length
    ? head.slice(0, count)
    : [...head, ...tail.slice(0, count - head.length)];
}
