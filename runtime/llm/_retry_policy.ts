/** How a model client waits between attempts. In-memory options, so camelCase. */
export interface RetryOptions {
  /** Backoff before the first retry, when the server gave no Retry-After. @default 500 */
  readonly initialDelayMs?: number;
  /** Backoff cap. @default 30_000 */
  readonly maxDelayMs?: number;
  /** Growth of the backoff per retry. @default 2 */
  readonly multiplier?: number;
  /** Share of each backoff drawn at random: 0 none, 1 full jitter. @default 0.5 */
  readonly jitter?: number;
  /** Longest Retry-After honoured; a longer one is cut to this. @default 120_000 */
  readonly maxRetryAfterMs?: number;
}

/** {@linkcode RetryOptions} with every default filled in. */
export type ResolvedRetryOptions = Readonly<Required<RetryOptions>>;

/** Fills the defaults of {@linkcode RetryOptions} and checks their ranges. */
export function resolveRetryOptions(
  options: RetryOptions = {},
): ResolvedRetryOptions {
  const resolved = {
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? 0.5,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
  };
  for (
    const key of ["initialDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const
  ) {
    if (!(resolved[key] >= 0)) {
      throw new RangeError(
        `Cannot use retry option ${key} = ${
          resolved[key]
        }: it must be a number >= 0`,
      );
    }
  }
  if (!(resolved.multiplier >= 1)) {
    throw new RangeError(
      `Cannot use retry option multiplier = ${resolved.multiplier}: it must be >= 1`,
    );
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw new RangeError(
      `Cannot use retry option jitter = ${resolved.jitter}: it must be between 0 and 1`,
    );
  }
  return resolved;
}

/**
 * Milliseconds to wait before retry number `retry` (1-based): the server's Retry-After when it sent
 * one (exactly, capped at `maxRetryAfterMs`), else exponential backoff with jitter.
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) {
    return Math.min(Math.max(0, retryAfterMs), options.maxRetryAfterMs);
  }
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.multiplier ** (retry - 1),
  );
  return base * (1 - options.jitter * random());
}
