/**
 * How long a server asked us to wait, in milliseconds: `retry-after-ms` (OpenAI), then `retry-after`
 * as seconds or an HTTP date (RFC 9110 §10.2.3). `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  headers: Headers | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get("retry-after")?.trim();
  if (after === undefined || after === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  // An HTTP date names its weekday and month; Date.parse alone would accept "-1" as a year.
  if (!/[A-Za-z]/.test(after)) return undefined;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
