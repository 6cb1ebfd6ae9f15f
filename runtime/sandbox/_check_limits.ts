import type { ExecLimits } from "../ports.ts";

/** Throws RangeError unless every limit is a positive integer and the output caps are ordered. */
export function checkLimits(limits: ExecLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(
        `Cannot use sandbox limit ${key} = ${value}: limits are positive integers`,
      );
    }
  }
  if (limits.output_cap_bytes < 2) {
    throw new RangeError(
      `Cannot use sandbox limit output_cap_bytes = ${limits.output_cap_bytes}: it must be at least 2 (head and tail)`,
    );
  }
}
