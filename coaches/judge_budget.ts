/** A run's judge budget, as the spec's `coach.budget` declares it; an absent limit is no limit. */
export interface JudgeBudgetLimits {
  /** Stop judging once this many USD are spent (calls with an unknown cost count 0). */
  readonly max_usd?: number;
  /** Stop judging after this many judge calls (format retries count; cache hits do not). */
  readonly max_calls?: number;
}

/**
 * Counts one run's judge calls and their cost, and refuses calls past the spec's `coach.budget`:
 * once `max_calls` calls were started or `max_usd` was spent, every further action is unscored
 * with reason `budget` and no request is made. A call is counted when it starts, so concurrent
 * judges never start more than `max_calls`; USD is known only when a reply comes back, so calls in
 * flight when `max_usd` is reached may spend past it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JudgeBudget } from "./judge_budget.ts";
 * const budget = new JudgeBudget({ max_calls: 1 });
 * assert(budget.tryStart());
 * budget.record(0.002);
 * assert(!budget.tryStart());
 * assert.equal(budget.calls, 1);
 * assert.match(budget.describe(), /1 of max_calls 1/);
 * ```
 */
export class JudgeBudget {
  readonly limits: JudgeBudgetLimits;
  #calls = 0;
  #usd = 0;
  #unpriced = 0;

  constructor(limits: JudgeBudgetLimits = {}) {
    for (const [name, value] of Object.entries(limits)) {
      if (value !== undefined && !(typeof value === "number" && value >= 0)) {
        throw new RangeError(
          `Cannot create a judge budget: ${name} must be a number >= 0, got ${value}`,
        );
      }
    }
    this.limits = limits;
  }

  /** Judge calls started. */
  get calls(): number {
    return this.#calls;
  }

  /** USD spent by the calls whose cost is known. */
  get usd(): number {
    return this.#usd;
  }

  /** Replies whose cost was unknown (a model without `price`): not counted against `max_usd`. */
  get unpricedCalls(): number {
    return this.#unpriced;
  }

  /** Whether a limit is reached, so no further call may start. */
  get exhausted(): boolean {
    const { max_calls, max_usd } = this.limits;
    return (max_calls !== undefined && this.#calls >= max_calls) ||
      (max_usd !== undefined && this.#usd >= max_usd);
  }

  /** Counts one call about to start; false, counting nothing, when the budget is spent. */
  tryStart(): boolean {
    if (this.exhausted) return false;
    this.#calls++;
    return true;
  }

  /** Adds the cost of a reply; `null` when the client could not price it. */
  record(costUsd: number | null): void {
    if (costUsd === null) this.#unpriced++;
    else this.#usd += costUsd;
  }

  /** What is spent against which limit, for an unscored verdict's reasoning. */
  describe(): string {
    const { max_calls, max_usd } = this.limits;
    if (max_calls !== undefined && this.#calls >= max_calls) {
      return `${this.#calls} of max_calls ${max_calls} judge calls made`;
    }
    if (max_usd !== undefined && this.#usd >= max_usd) {
      return `${round(this.#usd)} of max_usd ${max_usd} USD spent`;
    }
    return `${this.#calls} judge calls made, ${round(this.#usd)} USD spent`;
  }
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
