import type { PrefixRef } from "./events.ts";
import type { ChatMessage } from "./ports.ts";

/** What a role's previous action sent and got back: the next action of its turn loop records only what it adds. */
export interface PreviousAction {
  readonly index: number;
  /** The message objects sent (the turn loop keeps them, so a shared prefix is found by identity). */
  readonly sent: readonly ChatMessage[];
  readonly reply: ChatMessage;
  readonly promptIds?: readonly number[];
  readonly completionIds?: readonly number[];
}

/**
 * The messages an action records: those after the longest prefix it shares with the previous action's
 * messages and reply, and `messages_ref` naming that prefix (runtime/action_history.ts reads it back).
 */
export function newMessages(
  previous: PreviousAction | undefined,
  sent: readonly ChatMessage[],
): { messages: readonly ChatMessage[]; ref?: PrefixRef } {
  if (previous === undefined) return { messages: sent };
  const count = sharedPrefix(
    previous.sent,
    [previous.reply],
    sent,
  );
  return count === 0 ? { messages: sent } : {
    messages: sent.slice(count),
    ref: { action: previous.index, count },
  };
}

/** The prompt ids an action records: those after its prefix shared with the previous prompt and completion. */
export function newPromptIds(
  previous: PreviousAction | undefined,
  prompt: readonly number[],
): { ids: readonly number[]; ref?: PrefixRef } {
  if (previous?.promptIds === undefined) return { ids: prompt };
  const count = sharedPrefix(
    previous.promptIds,
    previous.completionIds ?? [],
    prompt,
  );
  return count === 0
    ? { ids: prompt }
    : { ids: prompt.slice(count), ref: { action: previous.index, count } };
}

/** How many leading items of `next` are those of `head` followed by `tail` (`===`: messages by identity). */
function sharedPrefix<T>(
  head: readonly T[],
  tail: readonly T[],
  next: readonly T[],
): number {
  const limit = Math.min(head.length + tail.length, next.length);
  let i = 0;
  while (
    i < limit &&
    (i < head.length ? head[i] : tail[i - head.length]) === next[i]
  ) i++;
  return i;
}
