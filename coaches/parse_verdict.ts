import { splitReasoning } from "../runtime/mod.ts";
import { type JudgeReply, JudgeReplySchema } from "./types.ts";

/** A rubric's score range, both ends included. */
export interface ScoreScale {
  readonly min: number;
  readonly max: number;
}

/** How a judge reply was read: the whole reply as the JSON schema, or one of the fallback forms. */
export type VerdictForm = "structured" | "json" | "marker" | "fraction";

/** A judge reply read into a verdict, or why it cannot be: never a made-up score (STYLE.md §6). */
export type VerdictParse =
  | {
    readonly ok: true;
    readonly reply: JudgeReply;
    readonly form: VerdictForm;
  }
  | {
    readonly ok: false;
    readonly reason: "verdict_parse_failure" | "out_of_scale";
    readonly message: string;
    /** The score the reply gave, when it gave one outside the scale. */
    readonly score?: number;
  };

/**
 * Reads a reply to the judge's JSON Schema response format, strictly: the whole text must be one JSON
 * object that {@linkcode JudgeReplySchema} accepts, with a score inside `scale`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStructuredVerdict } from "./parse_verdict.ts";
 * const read = parseStructuredVerdict('{"reasoning":"ran","score":7,"blame":null}', { min: 0, max: 10 });
 * assert(read.ok && read.reply.score === 7);
 * ```
 */
export function parseStructuredVerdict(
  text: string,
  scale: ScoreScale,
): VerdictParse {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return failure(`Cannot parse the judge reply as JSON: ${why}`);
  }
  const parsed = JudgeReplySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join(".") : "the reply";
    return failure(
      `Cannot read the judge reply as a verdict: at ${at}: ${issue.message}`,
    );
  }
  return inScale(parsed.data, "structured", scale);
}

/**
 * Reads a judge reply: strictly as the JSON Schema response format first, then, for servers without
 * structured output, by the LAST explicit score marker of the answer (reasoning in `<think>` is
 * ignored): a JSON object with a `score` (bare, fenced or in prose), a `"score": 7` key,
 * a `SCORE:` / `PROCESS_SCORE:` / `Final score:` label at the start of a line (markdown emphasis,
 * `[7]`, `7/10`, `7 out of 10` and a sentence's final period allowed), `PROCESS_SCORE: 7` anywhere,
 * and only when there is none of those, a last `7/10` whose denominator is the scale's maximum.
 * Text the judge quotes between the evidence's `<data-NONCE>` fences is the agents', never a score.
 * A reply holding a JSON verdict that never closes (`{"reasoning": "…", "score": 8, "b`: cut off at
 * max_tokens) is refused whatever else it says, so the judge is asked again instead of trusting half a
 * verdict.
 * A number that is not bound to a marker ("1. **Files check**", a quoted "ROC-AUC 0.85") is never a
 * score, and a score outside the scale is `out_of_scale`, never clamped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVerdict } from "./parse_verdict.ts";
 * const scale = { min: 0, max: 10 };
 * const read = parseVerdict("1. **Files check**: ok\nROC-AUC 0.85\n**PROCESS_SCORE:** [7]", scale);
 * assert(read.ok && read.reply.score === 7 && read.form === "marker");
 * const high = parseVerdict("SCORE: 12", scale);
 * assert(!high.ok && high.reason === "out_of_scale");
 * ```
 */
export function parseVerdict(text: string, scale: ScoreScale): VerdictParse {
  const strict = parseStructuredVerdict(text, scale);
  if (strict.ok || strict.reason === "out_of_scale") return strict;
  // What the judge quotes of the evidence's fenced data is the agents' text, not its verdict.
  const answer = withoutQuotedData(
    splitReasoning(text.replace(/\r\n?/g, "\n")).answer,
  );
  if (answer === "") {
    return failure(
      "Cannot find a score in the judge reply: it has no text outside its reasoning",
    );
  }
  const cut = truncatedObject(answer);
  if (cut >= 0) {
    return failure(
      `Cannot read the judge reply: its JSON verdict is cut off (the object opened at character ${cut} never closes); reply with one complete JSON object`,
    );
  }
  const found = lastExplicit(answer) ?? lastFraction(answer, scale);
  if (found === undefined) {
    return failure(
      `Cannot find a score in the judge reply: it has no JSON object with a "score", no "SCORE: <n>" line and no "<n>/${scale.max}"`,
    );
  }
  if (found.outOf !== undefined && found.outOf !== scale.max) {
    return {
      ok: false,
      reason: "out_of_scale",
      message:
        `Cannot accept score ${found.score}/${found.outOf}: the rubric's scale is ${scale.min} to ${scale.max}`,
      score: found.score,
    };
  }
  return inScale(
    {
      reasoning: found.reasoning ?? answer,
      score: found.score,
      blame: found.blame !== undefined ? found.blame : lastBlame(answer),
    },
    found.form,
    scale,
  );
}

const DATA_OPEN = /<data-([0-9a-f]{16})>/g;
const DATA_CLOSE = /<\/data-([0-9a-f]{16})>/g;

/** The text without the blocks of agents' text (as render_judge_prompt.ts fences it) that it quotes; linear time. */
function withoutQuotedData(text: string): string {
  if (!text.includes("<data-")) return text;
  const closes = new Map<string, number[]>();
  for (const m of text.matchAll(DATA_CLOSE)) {
    let at = closes.get(m[1]!);
    if (at === undefined) closes.set(m[1]!, at = []);
    at.push(m.index);
  }
  const next = new Map<string, number>(); // per nonce, the first close not yet passed
  let out = "";
  let kept = 0;
  for (const m of text.matchAll(DATA_OPEN)) {
    if (m.index < kept) continue;
    const at = closes.get(m[1]!) ?? [];
    let i = next.get(m[1]!) ?? 0;
    while (i < at.length && at[i]! < m.index) i++;
    next.set(m[1]!, i);
    if (i === at.length) continue;
    out += text.slice(kept, m.index);
    kept = at[i]! + `</data-${m[1]}>`.length;
  }
  return out + text.slice(kept);
}

interface Candidate {
  readonly end: number;
  readonly form: Exclude<VerdictForm, "structured">;
  readonly score: number;
  readonly outOf?: number;
  readonly reasoning?: string;
  readonly blame?: string | null;
}

const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;
// Markdown emphasis or code around a label or a number.
const DECOR = String.raw`[*_\x60]*`;
// What may follow a score: end of line, the end of a sentence, or an aside ("7 (solid)", "7 - solid").
const AFTER = String
  .raw`(?=${DECOR}[ \t]*(?:[.,;!?]?[ \t]*$|[.,;!?][ \t]|[-–—(]))`;
const OUT_OF = String.raw`(?:[ \t]*(?:\/|out of)[ \t]*${NUMBER})?`;
const VALUE = String
  .raw`[ \t]*(?:[:=]|is\b)[ \t]*${DECOR}[ \t]*\[?[ \t]*${NUMBER}[ \t]*\]?${OUT_OF}${AFTER}`;
const LABEL = String
  .raw`(?:(?:the|my|our)[ \t]+)?(?:(?:final|overall|total|process)[ _-]?)?(?:score|rating)`;
// A label at the start of a line, after list, quote or heading marks and emphasis.
const LINE_LABEL = new RegExp(
  String
    .raw`^[ \t]*(?:(?:[-*+>#]+|\d+[.)])[ \t]+)*${DECOR}${LABEL}${DECOR}${VALUE}`,
  "gim",
);
// Format tokens are markers wherever they stand (OUTCOME_SCORE and ANSWER_CORRECT are other fields).
const TOKEN_LABEL = new RegExp(
  String.raw`(?<![\w])${DECOR}(?:process|final|overall)_score${DECOR}${VALUE}`,
  "gim",
);
const KEY_LABEL = new RegExp(
  String
    .raw`"(?:score|process_score|final_score|overall_score)"[ \t]*:[ \t]*"?${NUMBER}"?`,
  "gi",
);
const FRACTION = new RegExp(
  String
    .raw`(?<![\w.\/-])${NUMBER}[ \t]*\/[ \t]*${NUMBER}(?![\w\/]|\.\d)${AFTER}`,
  "gm",
);
// A JSON object (or a broken one's "score" key) is a verdict only if all its keys are a verdict's:
// `{"model": "rf", "score": 0.85}` quoted from a tool's output is not.
const VERDICT_KEYS = new Set([
  "reasoning",
  "evidence",
  "analysis",
  "justification",
  "explanation",
  "rationale",
  "feedback",
  "score",
  "process_score",
  "final_score",
  "overall_score",
  "blame",
  "answer_correct",
  "confidence",
]);
const SCORE_KEYS = ["score", "process_score", "final_score", "overall_score"];
const JSON_KEY = /(?<!\\)"([^"\\]+)"[ \t\r\n]*:/g;
const BLAME = /^[ \t>*#_-]*blame[*_]*[ \t]*:[ \t]*[*_`"]*([A-Za-z][\w.-]*)/gim;
const MAX_OBJECT_STARTS = 2000;

/** The last score bound to a marker or a JSON object, by where it ends in the text. */
function lastExplicit(text: string): Candidate | undefined {
  let best: Candidate | undefined;
  const consider = (c: Candidate | undefined) => {
    if (c !== undefined && (best === undefined || c.end >= best.end)) best = c;
  };
  consider(lastJsonObject(text));
  for (const pattern of [LINE_LABEL, TOKEN_LABEL, KEY_LABEL]) {
    for (const m of text.matchAll(pattern)) {
      if (pattern === KEY_LABEL && !inVerdictObject(text, m.index)) continue;
      consider({
        end: m.index + m[0].length,
        form: "marker",
        score: Number(m[1]),
        ...(m[2] !== undefined ? { outOf: Number(m[2]) } : {}),
      });
    }
  }
  return best;
}

/** The last `n/max` of the text; fractions with another denominator ("3/4 tests") are not scores. */
function lastFraction(text: string, scale: ScoreScale): Candidate | undefined {
  let best: Candidate | undefined;
  for (const m of text.matchAll(FRACTION)) {
    if (Number(m[2]) !== scale.max) continue;
    best = {
      end: m.index + m[0].length,
      form: "fraction",
      score: Number(m[1]),
    };
  }
  return best;
}

/** The last JSON object in the text (bare, fenced or in prose) that holds a numeric `score`. */
function lastJsonObject(text: string): Candidate | undefined {
  let best: Candidate | undefined;
  let starts = 0;
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) {
    if (++starts > MAX_OBJECT_STARTS) break;
    const end = objectEnd(text, i);
    if (end < 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(text.slice(i, end));
    } catch {
      continue;
    }
    const candidate = fromObject(value, end);
    if (candidate !== undefined) {
      best = candidate;
      i = end - 1; // its inner objects are part of it
    }
  }
  return best;
}

function fromObject(value: unknown, end: number): Candidate | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return undefined;
  }
  const o = value as Record<string, unknown>;
  if (!Object.keys(o).every((k) => VERDICT_KEYS.has(k.toLowerCase()))) {
    return undefined;
  }
  const raw = SCORE_KEYS.map((k) => o[k]).find((v) => v !== undefined);
  const score = typeof raw === "number"
    ? raw
    : typeof raw === "string" && /^\s*-?\d+(?:\.\d+)?\s*$/.test(raw)
    ? Number(raw)
    : undefined;
  if (score === undefined) return undefined;
  return {
    end,
    form: "json",
    score,
    ...(typeof o.reasoning === "string" && o.reasoning.trim() !== ""
      ? { reasoning: o.reasoning }
      : {}),
    ...(typeof o.blame === "string" || o.blame === null
      ? { blame: nullBlame(o.blame) }
      : {}),
  };
}

// An object whose first key is a verdict's: where a JSON verdict starts.
const VERDICT_START = /\{[ \t\r\n]*"([^"\\]+)"[ \t\r\n]*:/g;

/** Where a JSON verdict opens that never closes (the reply was cut off inside it), or -1. */
function truncatedObject(text: string): number {
  let closed = 0; // objects inside one that closes close too: each character is scanned about once
  for (const m of text.matchAll(VERDICT_START)) {
    if (m.index < closed || !VERDICT_KEYS.has(m[1]!.toLowerCase())) continue;
    const end = objectEnd(text, m.index);
    if (end < 0) return m.index;
    closed = end;
  }
  return -1;
}

/** Whether the keys around a `"score":` found outside any parsable object are all a verdict's. */
function inVerdictObject(text: string, index: number): boolean {
  const open = text.lastIndexOf("{", index);
  const close = text.indexOf("}", index);
  const region = text.slice(
    open < 0 ? index : open,
    close < 0 ? text.length : close,
  );
  for (const m of region.matchAll(JSON_KEY)) {
    if (!VERDICT_KEYS.has(m[1]!.toLowerCase())) return false;
  }
  return true;
}

/** The index just past the `}` closing the object that opens at `start`, or -1. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

function lastBlame(text: string): string | null {
  let blame: string | null = null;
  for (const m of text.matchAll(BLAME)) blame = nullBlame(m[1]!);
  return blame;
}

function nullBlame(blame: string | null): string | null {
  if (blame === null) return null;
  const b = blame.trim();
  return /^(?:none|null|n\/?a|nobody|-)?$/i.test(b) ? null : b;
}

function inScale(
  reply: JudgeReply,
  form: VerdictForm,
  scale: ScoreScale,
): VerdictParse {
  if (!Number.isFinite(reply.score)) {
    return failure(`Cannot accept score ${reply.score}: it is not a number`);
  }
  if (reply.score < scale.min || reply.score > scale.max) {
    return {
      ok: false,
      reason: "out_of_scale",
      message:
        `Cannot accept score ${reply.score}: the rubric's scale is ${scale.min} to ${scale.max}`,
      score: reply.score,
    };
  }
  return { ok: true, reply, form };
}

function failure(message: string): VerdictParse {
  return { ok: false, reason: "verdict_parse_failure", message };
}
