import { join } from "node:path";
import {
  readJsonLines,
  readRunManifest,
  RunStoreError,
} from "../runtime/mod.ts";
import {
  listLayers,
  readLayer,
  type Verdict,
  verdictKey,
} from "../coaches/mod.ts";

// What the report reads from a run directory, reduced to the facts it shows. events.jsonl is read loosely
// (records were validated when written; a newer writer may add fields or kinds), and only each episode's
// last attempt counts (README "Run directory").

/** One episode's last attempt. */
export interface ReportEpisode {
  readonly episode_id: string;
  readonly attempt: number;
  readonly task_id: string;
  /** The task's category, `(none)` when the dataset gives none. */
  readonly category: string;
  /** `running` when no episode_finished was written (an interrupted run). */
  readonly status: "completed" | "failed" | "running";
  readonly error: string | null;
  /** Graded success; null when the episode was not graded. */
  readonly success: boolean | null;
  /** Why the grader could not grade the episode (infrastructure, not the agents'); absent when it could. */
  readonly ungraded?: string;
  /** Outcome metrics from the grader, when present. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** One action of a last attempt. */
export interface ReportAction {
  readonly key: string;
  readonly episode_id: string;
  readonly action_index: number;
  readonly role: string;
  /** The reply's text and tool-call arguments, as the role wrote them. */
  readonly reply: string;
  readonly model_ok: boolean;
  readonly model: string | null;
  readonly cost_usd: number | null;
  readonly tokens: number;
  readonly executions: number;
  /** Tool executions whose status is not `ok`, by status. */
  readonly tool_errors: Readonly<Record<string, number>>;
}

/** Contract results of one role_finished record. */
export interface ReportRoleFinish {
  readonly role: string;
  readonly missing_required: readonly string[];
  readonly missing_inputs: readonly string[];
  readonly invalid: readonly string[];
}

/** One score layer, or why it could not be read. */
export interface ReportLayer {
  readonly name: string;
  /** Verdicts of the last attempts, one per action. */
  readonly verdicts: readonly Verdict[];
  /** Verdicts on earlier attempts or on actions absent from events.jsonl, left out. */
  readonly dropped: number;
  readonly error: string | null;
}

/** Everything the report shows, read from one run directory. */
export interface RunData {
  readonly dir: string;
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly episodes: readonly ReportEpisode[];
  readonly actions: readonly ReportAction[];
  readonly finishes: readonly ReportRoleFinish[];
  readonly layers: readonly ReportLayer[];
  /** Where graded outcomes came from, or null when the run holds none. */
  readonly outcome_source: string | null;
  /** Lines of events.jsonl or outcomes.jsonl that were not JSON objects. */
  readonly unreadable_lines: number;
}

/**
 * The key pairing an action with its verdicts: `<episode_id>#<attempt>#<action_index>`.
 *
 * @example
 * ```ts
 * import { keyOf } from "./report_data.ts";
 * if (keyOf({ episode_id: "e", attempt: 1, action_index: 2 }) !== "e#1#2") throw new Error("wrong key");
 * ```
 */
export function keyOf(
  a: {
    readonly episode_id: string;
    readonly attempt: number;
    readonly action_index: number;
  },
): string {
  return verdictKey(a);
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
function strs(v: unknown): string[] {
  return Array.isArray(v)
    ? v.map((x) => isRec(x) ? str(x.path) : str(x)).filter((x): x is string =>
      x !== null
    )
    : [];
}

/**
 * The records of a JSON Lines file, read by runtime's reader, and how many lines are not JSON objects (a
 * line cut short by a killed run among them); null when there is no such file.
 */
async function readJsonl(
  path: string,
): Promise<{ records: Rec[]; bad: number } | null> {
  const lines = await readJsonLines(path, true);
  if (lines === null) return null;
  const records: Rec[] = [];
  let bad = 0;
  for (const [, line] of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (isRec(v)) records.push(v);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { records, bad };
}

function replyText(e: Rec): string {
  const reply = isRec(e.reply) ? e.reply : {};
  const calls = Array.isArray(reply.tool_calls)
    ? reply.tool_calls.filter(isRec)
    : [];
  return [str(reply.content) ?? "", ...calls.map((c) => str(c.arguments) ?? "")]
    .filter((s) => s !== "").join("\n");
}

function toAction(e: Rec, episode: string, index: number): ReportAction {
  const call = isRec(e.model_call) ? e.model_call : {};
  const usage = isRec(call.usage) ? call.usage : {};
  const execs = Array.isArray(e.executions) ? e.executions.filter(isRec) : [];
  const toolErrors: Record<string, number> = {};
  for (const x of execs) {
    const status = str(x.status) ?? "unknown";
    if (status !== "ok") toolErrors[status] = (toolErrors[status] ?? 0) + 1;
  }
  return {
    key: keyOf({
      episode_id: episode,
      attempt: num(e.attempt) ?? 1,
      action_index: index,
    }),
    episode_id: episode,
    action_index: index,
    role: str(e.role) ?? "(none)",
    reply: replyText(e),
    model_ok: call.ok !== false,
    model: str(call.model_name) ?? str(call.model),
    cost_usd: num(call.cost_usd),
    tokens: (num(usage.prompt_tokens) ?? 0) +
      (num(usage.completion_tokens) ?? 0),
    executions: execs.length,
    tool_errors: toolErrors,
  };
}

/** An outcome record: `outcomes.jsonl` lines, or an `outcome` object on episode_finished. */
function outcomeOf(
  r: Rec,
): {
  success: boolean | null;
  metrics: Record<string, number>;
  ungraded?: string;
} {
  // A grader failure says nothing of the agents: neither a success nor a failure, and no metrics.
  if (typeof r.ungraded === "string") {
    return {
      success: null,
      metrics: {},
      ungraded: `${r.ungraded}: ${str(r.reason) ?? "no reason recorded"}`,
    };
  }
  const success = typeof r.success === "boolean"
    ? r.success
    : typeof r.correct === "boolean"
    ? r.correct
    : null;
  const metrics: Record<string, number> = {};
  if (isRec(r.metrics)) {
    for (const [k, v] of Object.entries(r.metrics)) {
      const n = num(v);
      if (n !== null) metrics[k] = n;
    }
  }
  return { success, metrics };
}

async function readLayers(
  dir: string,
  actions: ReadonlySet<string>,
): Promise<ReportLayer[]> {
  const out: ReportLayer[] = [];
  for (const name of await listLayers(dir)) {
    try {
      const all = await readLayer(dir, name);
      const verdicts = all.filter((v) => actions.has(keyOf(v)));
      out.push({
        name,
        verdicts,
        dropped: all.length - verdicts.length,
        error: null,
      });
    } catch (e) {
      out.push({
        name,
        verdicts: [],
        dropped: 0,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return out;
}

/**
 * Reads a run directory into the facts the report shows. Throws when the directory has no
 * manifest.json or events.jsonl, or its manifest is not a run manifest (readRunManifest).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadRunData } from "./report_data.ts";
 * await assert.rejects(loadRunData(await Deno.makeTempDir()), /Cannot report on run/);
 * ```
 */
export async function loadRunData(dir: string): Promise<RunData> {
  const manifest = await readRunManifest(dir, "report on");
  const events = await readJsonl(join(dir, "events.jsonl"));
  if (events === null) {
    throw new RunStoreError(
      `Cannot read run ${dir}: events.jsonl does not exist`,
      dir,
    );
  }

  const last = new Map<string, number>();
  for (const e of events.records) {
    const id = str(e.episode_id);
    if (id !== null && e.kind === "episode_started") {
      last.set(id, Math.max(last.get(id) ?? 0, num(e.attempt) ?? 1));
    }
  }
  const isLast = (e: Rec) => {
    const id = str(e.episode_id);
    return id !== null &&
      (num(e.attempt) ?? 1) === (last.get(id) ?? num(e.attempt) ?? 1);
  };
  const started = new Map<string, Rec>();
  const finished = new Map<string, Rec>();
  const graded = new Map<string, ReturnType<typeof outcomeOf>>();
  const actions: ReportAction[] = [];
  const finishes: ReportRoleFinish[] = [];
  let outcomeSource: string | null = null;
  for (const e of events.records) {
    if (!isLast(e)) continue;
    const id = str(e.episode_id)!;
    if (e.kind === "episode_started") started.set(id, e);
    else if (e.kind === "episode_finished") {
      finished.set(id, e);
      if (isRec(e.outcome)) {
        graded.set(id, outcomeOf(e.outcome));
        outcomeSource = "events.jsonl";
      }
    } else if (e.kind === "action") {
      actions.push(toAction(e, id, num(e.action_index) ?? actions.length));
    } else if (e.kind === "role_finished") {
      const c = isRec(e.contract) ? e.contract : {};
      finishes.push({
        role: str(e.role) ?? "(none)",
        missing_required: strs(c.missing_required),
        missing_inputs: strs(c.missing_inputs),
        invalid: strs(c.invalid),
      });
    }
  }
  const outcomes = await readJsonl(join(dir, "outcomes.jsonl"));
  for (const r of outcomes?.records ?? []) {
    if (!isLast(r)) continue;
    graded.set(str(r.episode_id)!, outcomeOf(r));
    outcomeSource = "outcomes.jsonl";
  }

  const episodes: ReportEpisode[] = [...started.values()].map((s) => {
    const id = str(s.episode_id)!;
    const f = finished.get(id);
    const status = str(f?.status);
    const g = graded.get(id);
    return {
      episode_id: id,
      attempt: num(s.attempt) ?? 1,
      task_id: str(s.task_id) ?? id,
      category: str(s.category) ?? "(none)",
      status: status === "completed" || status === "failed"
        ? status
        : "running",
      error: str(f?.error),
      success: g?.success ?? null,
      metrics: g?.metrics ?? {},
      ...(g?.ungraded !== undefined ? { ungraded: g.ungraded } : {}),
    };
  });
  const layers = await readLayers(dir, new Set(actions.map((a) => a.key)));
  return {
    dir,
    manifest,
    episodes,
    actions,
    finishes,
    layers,
    outcome_source: outcomeSource,
    unreadable_lines: events.bad + (outcomes?.bad ?? 0),
  };
}
