import type { OutcomeRecord } from "../events.ts";

/** Why an episode could not be graded: never the agents' doing (DESIGN.md decision 11). */
export type UngradedKind = NonNullable<OutcomeRecord["ungraded"]>;

/**
 * Thrown by a grader that cannot grade for a reason that is not the agents' (its program crashed, printed
 * output that is not its declared metrics, the sandbox failed): `gradeEpisode` records the episode as
 * ungraded with this kind and message, and its outcome reward is masked. Any other throw is `grader_error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UngradedError } from "./ungraded_error.ts";
 * const e = new UngradedError("grader_invalid_output", "metric \"pass_rate\" is missing");
 * assert.equal(e.kind, "grader_invalid_output");
 * ```
 */
export class UngradedError extends Error {
  readonly kind: UngradedKind;
  constructor(kind: UngradedKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UngradedError";
    this.kind = kind;
  }
}
