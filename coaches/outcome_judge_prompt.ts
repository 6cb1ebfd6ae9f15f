import { join } from "node:path";
import { type ExecutionGraph, sha256Hex } from "../dsl/mod.ts";
import type { GradeInput } from "../runtime/mod.ts";
import { renderTemplate } from "../runtime/mod.ts";
import { dataPreamble, fenceNonce } from "./evidence_fence.ts";
import type { JudgePrompt } from "./render_judge_prompt.ts";
import type { ScoreScale } from "./parse_verdict.ts";

/** Characters of one judged answer shown to the judge; the rest is cut with a note saying how much. */
export const MAX_ANSWER_CHARS = 100_000;
/** Workspace files listed to the judge (`files`); past it the list ends with a note. */
export const MAX_LISTED_FILES = 500;

/** The rubric of an `llm_judge` outcome as the grader uses it: its template and scale. */
export interface OutcomeRubric {
  readonly name: string;
  readonly template: string;
  readonly scale: ScoreScale;
}

/** The parameters of an `llm_judge` outcome, defaults filled. */
export type OutcomeJudgeParams = Extract<
  NonNullable<ExecutionGraph["outcome"]>,
  { grader: "llm_judge" }
>["params"];

/** The `llm_judge` parameters of a graph's outcome, or a TypeError naming the grader it has. */
export function outcomeJudgeParams(
  graph: ExecutionGraph,
): OutcomeJudgeParams {
  const outcome = graph.outcome;
  if (outcome?.grader !== "llm_judge") {
    throw new TypeError(
      `Cannot judge the outcome of "${graph.name}": its grader is ${
        outcome ? `"${outcome.grader}"` : "not declared"
      }; use this grader for outcome.grader: llm_judge only`,
    );
  }
  return outcome.params;
}

/** The rubric of `params`: a bare template is judged on 0 to 10, as a coach rubric by default. */
export function outcomeRubric(params: OutcomeJudgeParams): OutcomeRubric {
  const r = params.rubric;
  return typeof r === "string"
    ? { name: "outcome", template: r, scale: { min: 0, max: 10 } }
    : { name: r.name, template: r.template, scale: r.scale };
}

function cut(text: string): string {
  return text.length <= MAX_ANSWER_CHARS
    ? text
    : `${text.slice(0, MAX_ANSWER_CHARS)}\n[... ${
      text.length - MAX_ANSWER_CHARS
    } more characters not shown]`;
}

/** Folder entries read to list the workspace; past it the listing stops (an agent can make millions). */
const MAX_READ_ENTRIES = 10_000;

/** Workspace paths, depth first, never following a link; at most MAX_LISTED_FILES. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  let read = 0;
  let stopped = false;
  const walk = async (rel: string): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(join(root, rel))) {
      if (++read > MAX_READ_ENTRIES) {
        stopped = true;
        break;
      }
      entries.push(e);
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      if (out.length > MAX_LISTED_FILES || stopped) return;
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      // readDir reports links as links: a link to a folder is listed, never entered.
      if (e.isDirectory && !e.isSymlink) await walk(path);
      else out.push(e.isSymlink ? `${path} (link)` : path);
    }
  };
  await walk("");
  if (out.length > MAX_LISTED_FILES) {
    out.length = MAX_LISTED_FILES;
    out.push(`(more files not listed: only the first ${MAX_LISTED_FILES})`);
  } else if (stopped) {
    out.push(
      `(more files not listed: the listing stops after ${MAX_READ_ENTRIES} entries)`,
    );
  }
  return out;
}

/** The judged answers: one (`answer`) or named (`answers`), null where the role gave none. */
export function judgedAnswers(
  params: OutcomeJudgeParams,
  outputs: GradeInput["outputs"],
): { single: boolean; answers: Record<string, string | null> } {
  const read = (ref: string) => {
    const dot = ref.indexOf(".");
    return outputs[ref.slice(0, dot)]?.[ref.slice(dot + 1)] ?? null;
  };
  const a = params.answer;
  return typeof a === "string"
    ? { single: true, answers: { answer: read(a) } }
    : {
      single: false,
      answers: Object.fromEntries(
        Object.entries(a).map(([name, ref]) => [name, read(ref)]),
      ),
    };
}

/**
 * Renders the outcome judge's rubric with the episode: `pipeline`, `task` (id, category, inputs),
 * `expected` (the task's answer, text), `answer` or `answers.<name>`, `outputs.<role>.<output>`, `scale`,
 * and `files` (the workspace's paths) when `params.files` is set: the shapes dsl/template_context.ts
 * checks. What agents wrote (answers, outputs, file names) is fenced as data with a nonce, and the
 * prompt then opens with the preamble saying it is evidence, never instructions, as coach prompts do.
 */
export async function renderOutcomeJudgePrompt(
  input: GradeInput,
  rubric: OutcomeRubric,
): Promise<JudgePrompt> {
  const { graph, task } = input;
  const params = outcomeJudgeParams(graph);
  const { single, answers } = judgedAnswers(params, input.outputs);
  const outputs: Record<string, Record<string, string | null>> = {};
  for (const role of graph.roles) {
    outputs[role.id] = Object.fromEntries(
      Object.keys(role.outputs).map((k) => [
        k,
        input.outputs[role.id]?.[k] ?? null,
      ]),
    );
  }
  const files = params.files ? await listFiles(input.workspace) : undefined;
  const agents = JSON.stringify({ answers, outputs, files });
  const nonce = fenceNonce(agents);
  const fence = (s: string | null) =>
    s === null || s === ""
      ? s
      : s.includes("\n")
      ? `<data-${nonce}>\n${cut(s)}\n</data-${nonce}>`
      : `<data-${nonce}>${cut(s)}</data-${nonce}>`;
  const fenced = Object.fromEntries(
    Object.entries(answers).map(([k, v]) => [k, fence(v)]),
  );
  const expected = task.answer === undefined || task.answer === null
    ? null
    : typeof task.answer === "string"
    ? task.answer
    : JSON.stringify(task.answer);
  // A rubric that compares with the expected answer cannot judge a row that has none: ungraded, not 0.
  if (expected === null && READS_EXPECTED.test(rubric.template)) {
    throw new TypeError(
      `Cannot judge the outcome of task "${task.id}": its row has no expected answer and the rubric reads {{ expected }}; fill in the row's answer field (dataset.fields.answer)`,
    );
  }
  const vars: Record<string, unknown> = {
    pipeline: {
      name: graph.name,
      description: graph.description ?? "",
      roles: graph.roles.map((r) => r.name),
    },
    task: { id: task.id, category: task.category, ...task.inputs },
    expected,
    ...(single ? { answer: fenced.answer } : { answers: fenced }),
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([role, o]) => [
        role,
        Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fence(v)])),
      ]),
    ),
    scale: rubric.scale,
    ...(files ? { files: files.map((f) => fence(f)) } : {}),
  };
  let text: string;
  try {
    text = renderTemplate(rubric.template, vars);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `Cannot render the outcome judge's rubric "${rubric.name}": ${why}; check its template against README.md#llm-judged-outcomes`,
      { cause: error },
    );
  }
  if (text.includes(`<data-${nonce}>`)) text = dataPreamble(nonce) + text;
  return {
    text,
    sha256: sha256Hex(text),
  };
}

/** A `{{ ... expected ... }}` or `{% ... expected ... %}` block. */
const READS_EXPECTED = /\{[{%][^}%]*\bexpected\b/;
