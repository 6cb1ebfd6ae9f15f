import {
  isMap,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { z } from "zod";
import { IdSchema } from "../../dsl/mod.ts";

/** A tool call a scripted reply makes; object arguments are sent as their JSON text. */
export const ScriptedToolCallSchema = z.strictObject({
  id: z.string().min(1).optional(),
  name: z.string().min(1),
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).default(
    {},
  ),
});

/** The object form of a scripted reply; a plain string is the same as `{ text }`. */
export const ScriptedReplyObjectSchema = z.strictObject({
  text: z.string().default(""),
  reasoning: z.string().optional(),
  tool_calls: z.array(ScriptedToolCallSchema).optional(),
  finish_reason: z.string().optional(),
});

/** One scripted reply: its text, or an object with text, reasoning and tool calls. */
export const ScriptedReplySchema = z.union([
  z.string(),
  ScriptedReplyObjectSchema,
]);

const RepliesSchema = z.array(ScriptedReplySchema).min(1);

/**
 * A script of replies for the `scripted` provider, read from YAML or JSON:
 *
 * ```yaml
 * after_last: repeat_last     # or cycle
 * roles:
 *   solver: ["First reply", { text: "Second", tool_calls: [{ name: python, arguments: { code: "1" } }] }]
 * default: ["Reply of any role not listed"]
 * tasks:
 *   task-7: { solver: ["Override for task task-7"] }
 * ```
 */
export const ModelScriptSchema = z.strictObject({
  after_last: z.enum(["repeat_last", "cycle"]).default("repeat_last"),
  roles: z.record(IdSchema, RepliesSchema).default({}),
  default: RepliesSchema.optional(),
  tasks: z.record(z.string(), z.record(IdSchema, RepliesSchema)).default({}),
});

export type ScriptedToolCall = z.output<typeof ScriptedToolCallSchema>;
export type ScriptedReply = z.output<typeof ScriptedReplySchema>;
export type ModelScript = z.output<typeof ModelScriptSchema>;

/** One problem in a script file, with where it is. */
export interface ModelScriptIssue {
  readonly path: readonly (string | number)[];
  /** 1-based; absent when the position is unknown. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  readonly hint?: string;
}

/** A script file that cannot be read or does not have the expected shape. */
export class ModelScriptError extends Error {
  readonly file: string;
  readonly issues: readonly ModelScriptIssue[];

  constructor(
    file: string,
    issues: readonly ModelScriptIssue[],
    options?: ErrorOptions,
  ) {
    const lines = issues.map((i) => {
      const where = i.line === undefined
        ? file
        : `${file}:${i.line}:${i.column ?? 1}`;
      const at = i.path.length > 0 ? ` ${formatPath(i.path)}:` : "";
      return `${where}:${at} ${i.message}` +
        (i.hint !== undefined ? `\n  = hint: ${i.hint}` : "");
    });
    const count = issues.length === 1 ? "" : ` (${issues.length} problems)`;
    super(
      `Cannot load model script "${file}"${count}\n${lines.join("\n")}`,
      options,
    );
    this.name = "ModelScriptError";
    this.file = file;
    this.issues = issues;
  }
}

const SHAPE_HINT =
  'a script looks like { roles: { <role id>: ["reply 1", { text: "reply 2", tool_calls: [...] }] } }';
const ALLOWED_KEYS: Readonly<Record<string, string>> = {
  script: "after_last, roles, default, tasks",
  reply: "text, reasoning, tool_calls, finish_reason",
  tool_call: "id, name, arguments",
};

/**
 * Reads and validates a model script file (YAML or JSON); throws {@linkcode ModelScriptError}
 * naming the file, the line and column, the path and the fix.
 *
 * @example
 * ```ts ignore
 * const script = await loadModelScript("pipelines/demo/math.script.yaml");
 * ```
 */
export async function loadModelScript(path: string): Promise<ModelScript> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const missing = error instanceof Deno.errors.NotFound;
    throw new ModelScriptError(path, [{
      path: [],
      message: missing
        ? "the file does not exist"
        : `the file cannot be read: ${(error as Error).message}`,
      hint: missing
        ? "check the model's script path: it is relative to the spec file"
        : "check the file's permissions",
    }], { cause: error });
  }
  return parseModelScript(text, path);
}

/**
 * Parses a model script from its YAML or JSON text; `file` names it in errors.
 *
 * @example
 * ```ts ignore
 * const script = parseModelScript('roles: { solver: ["\\boxed{4}"] }', "inline.yaml");
 * ```
 */
export function parseModelScript(text: string, file: string): ModelScript {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ModelScriptError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: [],
          line: pos.line,
          column: pos.col,
          message: `the text is not valid YAML or JSON: ${
            e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
          }`,
          hint: "check indentation and quoting near this line",
        };
      }),
    );
  }
  const value: unknown = doc.toJS();
  const parsed = ModelScriptSchema.safeParse(value ?? {});
  const issues: ModelScriptIssue[] = [];
  if (!parsed.success) {
    for (const issue of flattenIssues(parsed.error.issues, value)) {
      const node = nodeAt(doc.contents, issue.path, issue.key);
      const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
      issues.push({
        ...issue,
        ...(pos !== undefined ? { line: pos.line, column: pos.col } : {}),
      });
    }
  } else if (
    Object.keys(parsed.data.roles).length === 0 &&
    parsed.data.default === undefined
  ) {
    issues.push({
      path: [],
      line: 1,
      column: 1,
      message: "the script has no replies",
      hint: SHAPE_HINT,
    });
  }
  if (issues.length > 0) throw new ModelScriptError(file, issues);
  return parsed.data!;
}

interface LocatedIssue {
  readonly path: (string | number)[];
  readonly message: string;
  readonly hint?: string;
  /** For an unknown key: the key, so the position points at it. */
  readonly key?: string;
}

/** Our wording for zod's issues (STYLE.md §5), with the values that were found. */
function flattenIssues(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
): LocatedIssue[] {
  const out: LocatedIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const found = valueAt(root, path);
    switch (issue.code) {
      case "invalid_union": {
        // A reply that is an object: report what is wrong inside it, not the union.
        if (
          found !== null && typeof found === "object" && !Array.isArray(found)
        ) {
          const inner = ScriptedReplyObjectSchema.safeParse(found);
          if (!inner.success) {
            out.push(
              ...flattenIssues(inner.error.issues, found).map((i) => ({
                ...i,
                path: [...path, ...i.path],
              })),
            );
            break;
          }
        }
        out.push({
          path,
          message: `a reply must be a string or an object, not ${
            describe(found)
          }`,
          hint:
            'write "text", or { text: "...", tool_calls: [{ name: "...", arguments: {...} }] }',
        });
        break;
      }
      case "unrecognized_keys":
        for (const key of issue.keys) {
          out.push({
            path,
            key,
            message: `unknown key "${key}"`,
            hint: `allowed keys here: ${ALLOWED_KEYS[contextOf(path)]}`,
          });
        }
        break;
      case "invalid_type":
        if (found === undefined && path.length > 0) {
          out.push({
            path,
            message: `the required key "${String(path.at(-1))}" is missing`,
            hint: `add ${String(path.at(-1))}: <${nounFor(issue.expected)}>`,
          });
          break;
        }
        out.push({
          path,
          message: `expected ${nounFor(issue.expected)}, found ${
            describe(found)
          }`,
          ...(path.length <= 1 ? { hint: SHAPE_HINT } : {}),
        });
        break;
      case "too_small":
        out.push({
          path,
          message: issue.origin === "array"
            ? "the list of replies is empty"
            : `the value is too short`,
          hint: issue.origin === "array"
            ? "give at least one reply, or remove the entry"
            : "give a non-empty name",
        });
        break;
      case "invalid_value":
        out.push({
          path,
          message: `expected one of ${
            issue.values.map((v) => JSON.stringify(v)).join(", ")
          }, found ${describe(found)}`,
        });
        break;
      case "invalid_key":
        out.push({
          path: path.slice(0, -1),
          key: String(path.at(-1)),
          message: `the role id "${String(path.at(-1))}" is not valid: ${
            issue.issues[0]?.message ?? "it is not an id"
          }`,
          hint:
            "role ids are the spec's role ids: letters, digits and underscores",
        });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

function contextOf(path: readonly (string | number)[]): string {
  const tail = path.at(-2);
  if (tail === "tool_calls") return "tool_call";
  return typeof path.at(-1) === "number" ? "reply" : "script";
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let here = root;
  for (const key of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<string | number, unknown>)[key];
  }
  return here;
}

/** The node at `path` (or the key node of `key` under it), else the nearest ancestor that exists. */
function nodeAt(
  root: unknown,
  path: readonly (string | number)[],
  key?: string,
): Node | undefined {
  const chain: Node[] = [];
  let here: unknown = root;
  for (const step of [...path, ...(key !== undefined ? [key] : [])]) {
    if (!isNode(here)) break;
    chain.push(here);
    here = childOf(here, step, step === key);
  }
  if (isNode(here)) chain.push(here);
  return chain.at(-1);
}

function childOf(node: Node, step: string | number, wantKey: boolean): unknown {
  if ("items" in node && Array.isArray(node.items)) {
    if (isMap(node)) {
      const pair = node.items.find((p) =>
        isPair(p) && isScalar(p.key) && String(p.key.value) === String(step)
      );
      return wantKey ? pair?.key : pair?.value;
    }
    return typeof step === "number" ? node.items[step] : undefined;
  }
  return undefined;
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === "object" && "range" in value;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function nounFor(expected: string): string {
  if (expected === "record" || expected === "object") return "a map";
  if (expected === "array") return "a list";
  return `a ${expected}`;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) =>
    typeof p === "number"
      ? `[${p}]`
      : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)
      ? `${i === 0 ? "" : "."}${p}`
      : `[${JSON.stringify(p)}]`
  ).join("");
}
