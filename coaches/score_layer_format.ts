import { join } from "node:path";
import { PathError } from "../runtime/mod.ts";
import { type Verdict, VerdictSchema } from "./types.ts";

// A score layer is `runs/<id>/scores/<rubric-name>@<rubric-hash>.jsonl`: every verdict of one run under one
// rubric version, one JSON object per line, appended and never rewritten (DESIGN.md decisions 6 and 7).

const encoder = new TextEncoder();

/** A layer name: `<rubric-name>@<rubric-hash>`. */
export const LAYER_NAME_PATTERN = /^[^/\\@\s]+@[^/\\@\s]+$/;

/** The folder of a run directory that holds its score layers. */
export const SCORES_DIR = "scores";

/** Thrown when a score layer cannot be found, read or opened; `path` is the layer's file or folder. */
export class ScoreLayerError extends PathError {}

/** What identifies an action within a run: one verdict per key in a layer. */
export interface VerdictKey {
  readonly episode_id: string;
  readonly attempt: number;
  readonly action_index: number;
}

/**
 * The map key of an action: `<episode_id>#<attempt>#<action_index>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdictKey } from "./score_layer.ts";
 * assert.equal(verdictKey({ episode_id: "e1", attempt: 1, action_index: 3 }), "e1#1#3");
 * ```
 */
export function verdictKey(key: VerdictKey): string {
  return `${key.episode_id}#${key.attempt}#${key.action_index}`;
}

/**
 * The layer name of a rubric version: `<name>@<hash>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerName } from "./score_layer.ts";
 * assert.equal(layerName({ name: "math_process", hash: "0123456789ab" }), "math_process@0123456789ab");
 * ```
 */
export function layerName(
  rubric: { readonly name: string; readonly hash: string },
): string {
  return `${rubric.name}@${rubric.hash}`;
}

/**
 * The file of a layer in a run directory; throws `RangeError` for a name that is not `<name>@<hash>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerPath } from "./score_layer.ts";
 * assert.equal(layerPath("runs/r1", "math@abc"), "runs/r1/scores/math@abc.jsonl");
 * ```
 */
export function layerPath(runDir: string, layer: string): string {
  if (!LAYER_NAME_PATTERN.test(layer)) {
    throw new RangeError(
      `Cannot name score layer "${layer}": expected "<rubric-name>@<rubric-hash>"`,
    );
  }
  return join(runDir, SCORES_DIR, `${layer}.jsonl`);
}

/** A layer file's text, parsed. */
export interface ParsedLayer {
  readonly verdicts: Verdict[];
  /** Bytes after the last newline that are not a verdict (a write cut short by a crash). */
  readonly tornBytes: number;
  /** Bytes of the text up to and including the last complete record. */
  readonly keptBytes: number;
  /** True when the last record is valid but its newline is missing. */
  readonly needsNewline: boolean;
}

function parseVerdict(line: string): Verdict | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const parsed = VerdictSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join(".") || "record"}: ${issue?.message ?? "invalid"}`;
}

/**
 * Whether a verdict settles its action: scored, or unscored for a reason a retry cannot change. Verdicts
 * left unscored by a judge error, the budget or a check program that could not decide (a timeout under
 * load, a jail that failed) are retried by the next rescore, which appends a new one.
 */
export function isFinalVerdict(v: Verdict): boolean {
  return v.status === "scored" ||
    (v.reason !== "judge_error" && v.reason !== "budget" &&
      v.reason !== "check_failed");
}

/** Parses a layer file's text; throws `ScoreLayerError` for a complete line that is not a verdict. */
export function parseLayer(text: string, path: string): ParsedLayer {
  const verdicts: Verdict[] = [];
  const at = new Map<string, number>();
  // A final verdict is never replaced (not even by a second writer); a retryable one is, by the next.
  const keep = (v: Verdict) => {
    const k = verdictKey(v);
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, verdicts.length);
      verdicts.push(v);
    } else if (!isFinalVerdict(verdicts[i]!)) verdicts[i] = v;
  };
  const lines = text.split("\n");
  const tail = lines.pop() ?? "";
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const v = parseVerdict(line);
    if (typeof v === "string") {
      throw new ScoreLayerError(
        `Cannot read score layer ${path}: line ${
          i + 1
        } is not a verdict (${v})`,
        path,
      );
    }
    keep(v);
  }
  const keptBytes = encoder.encode(text).length - encoder.encode(tail).length;
  if (tail.trim() === "") {
    return { verdicts, tornBytes: 0, keptBytes, needsNewline: false };
  }
  const last = parseVerdict(tail);
  if (typeof last === "string") {
    return {
      verdicts,
      tornBytes: encoder.encode(tail).length,
      keptBytes,
      needsNewline: false,
    };
  }
  keep(last);
  return {
    verdicts,
    tornBytes: 0,
    keptBytes: keptBytes + encoder.encode(tail).length,
    needsNewline: true,
  };
}

/** A layer file's text, or undefined when it does not exist. */
export async function readLayerText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new ScoreLayerError(
      `Cannot read score layer ${path}: ${e instanceof Error ? e.message : e}`,
      path,
      { cause: e },
    );
  }
}
