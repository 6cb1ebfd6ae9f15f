import { Liquid, type Template } from "liquidjs";
import { didYouMean } from "../_levenshtein.ts";
import { SPEC_BUDGETS } from "../budgets.ts";
import { outcomeJudgeUses } from "../outcome_judges.ts";
import type { RuleContext } from "../rule_context.ts";
import type { Role } from "../schema.ts";
import { type Loc, nodeAt } from "../source_tree.ts";
import {
  type ContextShape,
  outcomeJudgeContext,
  promptContext,
  rubricContext,
  taskShape,
} from "../template_context.ts";

type Path = (string | number)[];

const engine = new Liquid();
const FILTERS = Object.keys(engine.filters);

interface Parsed {
  readonly templates?: Template[];
  readonly error?: {
    message: string;
    row: number;
    column: number;
    hint?: string;
    /** Set when the template is over a budget rather than wrong. */
    budget?: boolean;
  };
}

// Bounded: a long-running process compiling many specs must not grow this without limit.
const MAX_CACHED = 2000;
const parsed = new Map<string, Parsed>();

function rowColumn(
  text: string,
  index: number,
): { row: number; column: number } {
  const before = text.slice(0, index);
  const row = before.split("\n").length;
  return { row, column: index - before.lastIndexOf("\n") };
}

/** The `{{ ... }}` and `{% ... %}` blocks of a template, found with indexOf in one pass. */
function* blocks(text: string): Generator<{ index: number; body: string }> {
  let closeOut = text.indexOf("}}");
  let closeTag = text.indexOf("%}");
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) {
    const next = text[i + 1];
    if (next !== "{" && next !== "%") continue;
    const closer = next === "{" ? "}}" : "%}";
    let close = next === "{" ? closeOut : closeTag;
    if (close >= 0 && close < i + 2) close = text.indexOf(closer, i + 2);
    if (next === "{") closeOut = close;
    else closeTag = close;
    // With no closer left, no later block of this kind can close: Liquid reports the unclosed one.
    if (close < 0) continue;
    yield { index: i, body: text.slice(i, close + 2) };
    i = close + 1;
  }
}

/** How many `{{` and `{%` a template holds, counted without parsing it. */
function tagCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) {
    const next = text[i + 1];
    if (next === "{" || next === "%") {
      n++;
      i++;
    }
  }
  return n;
}

// Liquid accepts `{% if x == %}` and treats the missing operand as nil: the condition is silently false.
const CONDITION = /^\{%-?\s*(if|elsif|unless)\b([\s\S]*?)-?%\}$/;
const DANGLING =
  /^\s*$|(==|!=|<>|<=|>=|<|>|\bcontains\b|\band\b|\bor\b)\s*$|^\s*(==|!=|<>|<=|>=|<|>|contains\b|and\b|or\b)/;

/** Problems Liquid's parser accepts: tags that read other files, filters that do not exist, conditions
 * missing an operand. */
function unsupported(text: string): Parsed["error"] | undefined {
  const tag = /\{%-?\s*(include|render|layout)\b/.exec(text);
  if (tag) {
    return {
      ...rowColumn(text, tag.index),
      message: `the tag "${
        tag[1]
      }" reads another file, which templates may not do`,
      hint:
        "put the text in the template, or split the prompt into its own file:// include",
    };
  }
  for (const block of blocks(text)) {
    // Blank out quoted strings so a "|" inside one is not read as a filter.
    const body = block.body.replace(
      /"[^"]*"|'[^']*'/g,
      (q) => " ".repeat(q.length),
    );
    const condition = CONDITION.exec(body);
    if (condition && DANGLING.test(condition[2]!)) {
      return {
        ...rowColumn(text, block.index),
        message: `the condition of "${condition[1]}" is missing an operand: ${
          JSON.stringify(block.body)
        }`,
        hint: "write both sides of a comparison, e.g. {% if x == 1 %}",
      };
    }
    for (const f of body.matchAll(/\|\s*([A-Za-z_][\w-]*)/g)) {
      if (FILTERS.includes(f[1]!)) continue;
      return {
        ...rowColumn(text, block.index + f.index! + f[0].indexOf(f[1]!)),
        message: `the filter "${f[1]}" does not exist`,
        hint: didYouMean(f[1]!, FILTERS, "filter") ??
          "see https://liquidjs.com/filters/overview.html",
      };
    }
  }
  return undefined;
}

function parse(text: string): Parsed {
  let p = parsed.get(text);
  if (!p) {
    // Liquid's parse and analysis grow faster than the number of tags: refuse long ones unread.
    const tags = tagCount(text);
    const problem = tags > SPEC_BUDGETS.templateTags
      ? {
        row: 1,
        column: 1,
        budget: true,
        message:
          `it holds ${tags} Liquid tags ({{ }} and {% %}), more than ${SPEC_BUDGETS.templateTags}`,
        hint: "split the template, or loop over a list with {% for %}",
      }
      : unsupported(text);
    if (problem) p = { error: problem };
    else {
      try {
        p = { templates: engine.parse(text) };
      } catch (e) {
        const err = e as {
          message?: string;
          token?: { getPosition?: () => [number, number] };
        };
        const [row, column] = err.token?.getPosition?.() ?? [1, 1];
        const message = String(err.message ?? e).replace(
          /, line:\d+, col:\d+$/,
          "",
        );
        p = { error: { message, row, column } };
      }
    }
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(text, p);
  }
  return p;
}

interface Problem {
  readonly code: "unknown_template_variable" | "outcome_not_visible";
  readonly message: string;
  readonly hint?: string;
  readonly segment: number;
}

/** A variable path as a message shows it: `upstream.solver.answer`, an expression segment as `[...]`. */
function shownPath(segments: readonly unknown[]): string {
  return segments.map((s) =>
    typeof s === "string" || typeof s === "number" ? String(s) : "[...]"
  ).join(".");
}

/**
 * Walks a variable path down a context shape: the first segment the shape has no key for, with its index and the
 * keys that were there; undefined when the path resolves, reaches a leaf, or meets an index or expression.
 */
function missingSegment(
  segments: readonly unknown[],
  shape: Record<string, ContextShape>,
): { index: number; seg: string; keys: string[] } | undefined {
  let node: ContextShape = shape;
  for (let i = 0; i < segments.length; i++) {
    if (node === "leaf") return undefined;
    const seg = segments[i];
    if (typeof seg !== "string") return undefined;
    if (!Object.hasOwn(node, seg)) {
      return { index: i, seg, keys: Object.keys(node) };
    }
    node = node[seg]!;
  }
  return undefined;
}

/** Checks one variable path against a context shape; returns the first problem, if any. */
function checkVariable(
  segments: readonly (string | number | unknown)[],
  shape: Record<string, ContextShape>,
  role: Role,
  isRubric: boolean,
  where: string,
): Problem | undefined {
  const missing = missingSegment(segments, shape);
  if (missing === undefined) return undefined;
  const shown = shownPath(segments);
  const { index: i, seg } = missing;
  if (i === 0) {
    if (seg === "outcome") {
      return {
        code: "outcome_not_visible",
        segment: 0,
        message: isRubric
          ? `Cannot use outcome facts "${shown}" in ${where}: the coach of role "${role.id}" may not see the outcome`
          : `Cannot use outcome facts "${shown}" in ${where}: agents never see outcome facts`,
        hint: isRubric
          ? `set coach_sees_outcome: true on role "${role.id}", or give it its own rubric under coach.rubrics`
          : "outcome facts are for the coach only; move this to the rubric",
      };
    }
    const rootHint = seg === "round" || seg === "max_rounds"
      ? `${seg} exists only for roles in a loop group (flow.loops)`
      : didYouMean(seg, missing.keys, "variable");
    return {
      code: "unknown_template_variable",
      segment: 0,
      ...(rootHint ? { hint: rootHint } : {}),
      message:
        `Cannot resolve template variable "${shown}" in ${where}: "${seg}" is not in the context of role "${role.id}"`,
    };
  }
  const root = segments[0];
  const parent = segments.slice(0, i).join(".");
  let hint = didYouMean(seg, missing.keys, "key");
  if (root === "upstream" && i === 1) {
    hint = hint ??
      `add "${seg}" to the sees of role "${role.id}" (it must be upstream of it)`;
  } else if (root === "upstream" && i === 2) {
    hint = hint ??
      `add ${seg} to sees.${String(segments[1])} of role "${role.id}"`;
  } else if (root === "task" && seg === "answer") {
    hint =
      "the expected answer reaches only the coach, as outcome.expected, for roles with coach_sees_outcome";
  } else if (root === "task") {
    hint = hint ??
      `declare it under dataset.fields.inputs: ${seg}: <field of the row>`;
  }
  return {
    code: "unknown_template_variable",
    segment: i,
    message:
      `Cannot resolve template variable "${shown}" in ${where}: "${parent}" has no "${seg}" for role "${role.id}"`,
    ...(hint ? { hint } : {}),
  };
}

/**
 * Every variable a prompt or rubric template reads is in the context of each role it is rendered for:
 * task inputs, what the role `sees` of upstream roles, and outcome facts only in rubrics of roles with
 * `coach_sees_outcome` (agents never see them). Liquid syntax errors are reported too. See
 * README.md#templates.
 */
export function templateVariables(ctx: RuleContext): void {
  let totalTags = 0;
  let overTotal = false;
  const shapes = new Map<string, Record<string, ContextShape>>();
  const shapeOf = (role: Role, isRubric: boolean) => {
    const key = `${isRubric ? "r" : "p"}:${role.id}`;
    let shape = shapes.get(key);
    if (!shape) {
      const place = { sees: ctx.sees(role), inLoop: ctx.loopOf.has(role.id) };
      shape = isRubric
        ? rubricContext(ctx.spec, role, place)
        : promptContext(ctx.spec, place);
      shapes.set(key, shape);
    }
    return shape;
  };
  const check = (
    path: Path,
    roles: readonly Role[],
    isRubric: boolean,
    where: (r: Role) => string,
    judge?: Record<string, ContextShape>,
  ) => {
    const node = nodeAt(ctx.root, path).node;
    if (node.kind !== "scalar" || typeof node.value !== "string") return;
    // Counted before parsing: past the total, no template is parsed or analysed.
    totalTags += tagCount(node.value);
    if (totalTags > SPEC_BUDGETS.totalTemplateTags) {
      if (!overTotal) {
        overTotal = true;
        ctx.report({
          code: "over_budget",
          path,
          message: `Cannot check the template of ${
            where(roles[0]!)
          }: the spec's templates hold more than ${SPEC_BUDGETS.totalTemplateTags} Liquid tags together`,
          hint: "share one rubric between roles, or shorten the templates",
        });
      }
      return;
    }
    const p = parse(node.value);
    const at = (row: number, column: number): Loc => {
      const pos = node.origin?.map(row, column);
      return pos ? { file: node.origin!.file, start: pos } : node.loc;
    };
    if (p.error) {
      ctx.report({
        code: p.error.budget ? "over_budget" : "template_syntax",
        path,
        loc: at(p.error.row, p.error.column),
        message: `Cannot parse the template of ${
          where(roles[0]!)
        }: ${p.error.message}`,
        hint: p.error.hint ??
          "templates use Liquid syntax: {{ variable }}, {% if %}...{% endif %}, {% for x in list %}...{% endfor %}",
      });
      return;
    }
    const analysis = engine.analyzeSync(p.templates!, { partials: false });
    const seen = new Set<string>();
    for (const variables of Object.values(analysis.globals)) {
      for (const v of variables) {
        const problem = judge && judgeVariable(v.segments, judge);
        if (problem) {
          ctx.report({
            code: "unknown_template_variable",
            path,
            loc: at(v.location.row, v.location.col),
            message: problem.message,
            hint: problem.hint,
          });
        }
        for (const role of roles) {
          const shape = shapeOf(role, isRubric);
          const problem = checkVariable(
            v.segments,
            shape,
            role,
            isRubric,
            where(role),
          );
          if (!problem) continue;
          const key = `${v.location.row}:${v.location.col}`;
          if (seen.has(key)) break;
          seen.add(key);
          ctx.report({
            code: problem.code,
            path,
            loc: at(v.location.row, v.location.col),
            message: problem.message,
            ...(problem.hint ? { hint: problem.hint } : {}),
          });
          break;
        }
      }
    }
  };
  ctx.spec.roles.forEach((role, i) => {
    check(
      ["roles", i, "prompts", "user"],
      [role],
      false,
      (r) => `the user prompt of role "${r.id}"`,
    );
    if (role.prompts.system !== undefined) {
      check(
        ["roles", i, "prompts", "system"],
        [role],
        false,
        (r) => `the system prompt of role "${r.id}"`,
      );
    }
  });
  for (const use of ctx.rubricUses) {
    if (use.roles.length === 0) continue;
    check(
      [...use.path, "template"],
      use.roles,
      true,
      (r) => `rubric "${use.rubric.name}" (scoring role "${r.id}")`,
    );
  }
  for (const { judge, path } of outcomeJudgeUses(ctx.spec.outcome)) {
    const inline = typeof judge.params.rubric === "string";
    check(
      [...path, "params", "rubric", ...(inline ? [] : ["template"])],
      [],
      true,
      () => "the outcome judge's rubric",
      outcomeJudgeContext(ctx.spec, judge),
    );
  }
  taskFilePaths(ctx);
}

/** The first problem of a variable in the outcome judge's rubric, whose context is the same for every role. */
function judgeVariable(
  segments: readonly unknown[],
  shape: Record<string, ContextShape>,
): { message: string; hint: string } | undefined {
  const missing = missingSegment(segments, shape);
  if (missing === undefined) return undefined;
  const shown = shownPath(segments);
  const { index: i, seg, keys } = missing;
  const parent = segments.slice(0, i).join(".");
  const hint = i === 0 && seg === "files"
    ? "set outcome.params.files: true to show the judge the workspace's files"
    : i === 0 && seg === "expected"
    ? "declare dataset.fields.answer: the row field holding the expected answer"
    : i === 0 && (seg === "answer" || seg === "answers")
    ? `outcome.params.answer is ${
      "answer" in shape ? "one answer: use answer" : "named: use answers.<name>"
    }`
    : didYouMean(seg, keys, i === 0 ? "variable" : "key") ??
      `the outcome judge's rubric reads ${keys.join(", ")}`;
  return {
    message: i === 0
      ? `Cannot resolve template variable "${shown}" in the outcome judge's rubric: "${seg}" is not in its context`
      : `Cannot resolve template variable "${shown}" in the outcome judge's rubric: "${parent}" has no "${seg}"`,
    hint,
  };
}

/** `dataset.files[].path` may read task fields only: `{{ task.id }}`, `{{ task.<input> }}`. */
function taskFilePaths(ctx: RuleContext): void {
  if (ctx.spec.roles.length === 0) return;
  const task = taskShape(ctx.spec);
  ctx.spec.dataset.files.forEach((f, i) => {
    if (!("path" in f) || !f.path.includes("{")) return;
    const path = ["dataset", "files", i, "path"];
    const node = nodeAt(ctx.root, path).node;
    const at = (row: number, column: number): Loc => {
      const pos = node.kind === "scalar"
        ? node.origin?.map(row, column)
        : undefined;
      return pos ? { file: node.loc.file, start: pos } : node.loc;
    };
    const p = parse(f.path);
    if (p.error) {
      ctx.report({
        code: p.error.budget ? "over_budget" : "template_syntax",
        path,
        loc: at(p.error.row, p.error.column),
        message:
          `Cannot parse the path of dataset.files[${i}]: ${p.error.message}`,
        hint: p.error.hint ??
          "write the path with {{ task.id }} or {{ task.<input> }}",
      });
      return;
    }
    for (
      const variables of Object.values(
        engine.analyzeSync(p.templates!, { partials: false }).globals,
      )
    ) {
      for (const v of variables) {
        const [root, key] = v.segments;
        if (
          root === "task" &&
          (key === undefined || typeof key !== "string" ||
            Object.hasOwn(task, key))
        ) continue;
        const shown = v.segments.map(String).join(".");
        const hint = root === "task" && typeof key === "string"
          ? didYouMean(key, Object.keys(task), "task field")
          : undefined;
        ctx.report({
          code: "unknown_template_variable",
          path,
          loc: at(v.location.row, v.location.col),
          message:
            `Cannot resolve template variable "${shown}" in the path of dataset.files[${i}]: paths may read task fields only`,
          hint: hint ??
            `use task.id, or declare the field under dataset.fields.inputs`,
        });
      }
    }
  });
}
