import type { z } from "zod";
import { didYouMean } from "./_levenshtein.ts";
import { type Diagnostic, formatPath } from "./diagnostic.ts";
import type { DiagnosticCode } from "./diagnostic_codes.ts";
import { nodeAt, type SpecNode } from "./source_tree.ts";

type Issue = z.core.$ZodIssue;
type Path = (string | number)[];

// deno-lint-ignore no-explicit-any
type AnyDef = any;

function defOf(schema: z.core.$ZodType): AnyDef {
  return (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** The object schema's keys at a data path, following wrappers, arrays, records and unions. */
function keysAt(schema: z.core.$ZodType, path: Path, data: unknown): string[] {
  let def = defOf(schema);
  let value = data;
  let i = 0;
  for (let guard = 0; guard < 200; guard++) {
    switch (def.type) {
      case "optional":
      case "default":
      case "nullable":
      case "readonly":
      case "prefault":
      case "catch":
        def = defOf(def.innerType);
        continue;
      case "pipe":
        def = defOf(def.in);
        continue;
      case "lazy":
        def = defOf(def.getter());
        continue;
      case "union": {
        const options = def.options as z.core.$ZodType[];
        const fits = options.find((o) => {
          const od = defOf(o);
          return od.type === "object" &&
            (value === null || typeof value !== "object" || Array.isArray(value)
              ? false
              : !def.discriminator ||
                (defOf(od.shape[def.discriminator]).values ?? []).includes(
                  (value as Record<string, unknown>)[def.discriminator],
                ));
        }) ?? options.find((o) => defOf(o).type === "object");
        if (!fits) return [];
        def = defOf(fits);
        continue;
      }
    }
    if (i === path.length) {
      return def.type === "object" ? Object.keys(def.shape) : [];
    }
    const part = path[i++]!;
    value = value !== null && typeof value === "object"
      ? (value as Record<string | number, unknown>)[part]
      : undefined;
    if (def.type === "object" && typeof part === "string" && def.shape[part]) {
      def = defOf(def.shape[part]);
    } else if (def.type === "array") def = defOf(def.element);
    else if (def.type === "record") def = defOf(def.valueType);
    else return [];
  }
  return [];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") {
    return `the string ${
      JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value)
    }`;
  }
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" && !Number.isFinite(value)) {
    return `${String(value)}, which is not a finite number`;
  }
  return `${typeof value} ${String(value)}`;
}

/** A hint for the usual slips: a bare word where a list is wanted, a number or boolean where text is. */
function typeHint(expected: string, value: unknown): string | undefined {
  if (
    expected === "array" &&
    (typeof value === "string" || typeof value === "number")
  ) return `write a list: [${value}]`;
  if (
    expected === "string" &&
    (typeof value === "boolean" || typeof value === "number")
  ) {
    return `quote it to keep it as text: "${String(value)}"`;
  }
  if (
    (expected === "number" || expected === "int") &&
    typeof value === "string" && value.trim() !== "" && !isNaN(Number(value))
  ) {
    return "remove the quotes";
  }
  return undefined;
}

/** When an unknown key belongs one level down (`temperature` next to `sampling`), says where. */
function nestedHint(
  schema: z.core.$ZodType,
  path: Path,
  data: unknown,
  key: string,
  known: string[],
): string | undefined {
  for (const child of known) {
    if (keysAt(schema, [...path, child], data).includes(key)) {
      return `did you mean to put it under ${child}: { ${key}: ... }?`;
    }
  }
  return undefined;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  record: "a mapping",
  literal: "a fixed value",
};

function label(path: Path): string {
  const last = [...path].reverse().find((p) => typeof p === "string");
  return last === undefined ? "the spec" : `"${last}"`;
}

function parentLabel(path: Path): string {
  return path.length === 0 ? "the spec" : formatPath(path);
}

/**
 * Turns zod issues for a spec into positioned diagnostics with our messages and did-you-mean hints.
 *
 * Keeps zod's issue codes (reporting a missing key as `missing_key`), taking text from `messageForIssue`.
 */
export function checkShape(
  schema: z.ZodType,
  root: SpecNode,
  data: unknown,
  issues: readonly Issue[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const push = (
    code: DiagnosticCode,
    path: Path,
    message: string,
    hint?: string,
    onKey = false,
  ) => {
    const found = nodeAt(root, path);
    const loc = onKey && found.exact && found.keyLoc
      ? found.keyLoc
      : found.node.loc;
    out.push({
      code,
      severity: "error",
      message,
      file: loc.file,
      ...(loc.start ? { position: loc.start } : {}),
      ...(onKey && loc.end ? { end: loc.end } : {}),
      path,
      ...(hint ? { hint } : {}),
    });
  };
  const visit = (issue: Issue, prefix: Path) => {
    const path = [
      ...prefix,
      ...issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    ];
    const value = valueAt(data, path);
    switch (issue.code) {
      case "invalid_type": {
        if (value === undefined) {
          const parent = path.slice(0, -1);
          push(
            "missing_key",
            path,
            `Cannot find required key ${label(path)} in ${parentLabel(parent)}`,
            `add ${String(path.at(-1))}: ...`,
          );
          return;
        }
        const expected = EXPECTED[issue.expected] ?? issue.expected;
        push(
          "invalid_type",
          path,
          `Cannot accept ${label(path)}: expected ${expected}, got ${
            describe(value)
          }`,
          typeHint(issue.expected, value),
        );
        return;
      }
      case "unrecognized_keys": {
        const known = keysAt(schema, path, data);
        for (const key of issue.keys) {
          push(
            "unrecognized_keys",
            [...path, key],
            `Cannot recognize key "${key}" in ${parentLabel(path)}`,
            didYouMean(key, known, "key") ??
              nestedHint(schema, path, data, key, known) ?? "remove it",
            true,
          );
        }
        return;
      }
      case "invalid_value": {
        const values = issue.values.map((v) => String(v));
        const shown = issue.values.map((v) => JSON.stringify(v)).join(", ");
        push(
          "invalid_value",
          path,
          `Cannot accept ${JSON.stringify(value) ?? "this value"} for ${
            label(path)
          }: expected ${values.length === 1 ? shown : `one of ${shown}`}`,
          typeof value === "string" ? didYouMean(value, values) : undefined,
        );
        return;
      }
      case "invalid_union": {
        const u = issue as Issue & {
          discriminator?: string;
          options?: unknown[];
        };
        if (u.discriminator !== undefined) {
          if (value === undefined) {
            push(
              "missing_key",
              path,
              `Cannot find required key ${label(path)} in ${
                parentLabel(path.slice(0, -1))
              }`,
            );
            return;
          }
          const options = (u.options ?? []).map(String);
          push(
            "invalid_value",
            path,
            `Cannot accept ${JSON.stringify(value)} for ${
              label(path)
            }: expected one of ${
              options.map((o) => JSON.stringify(o)).join(", ")
            }`,
            typeof value === "string" ? didYouMean(value, options) : undefined,
          );
          return;
        }
        const branches = issue.errors;
        if (branches.length === 0) {
          push(
            "invalid_type",
            path,
            `Cannot accept ${label(path)}: got ${describe(value)}`,
          );
          return;
        }
        // Pick the branch that got furthest: fewest type mismatches at the union's own level.
        const score = (b: readonly Issue[]) =>
          b.filter((x) =>
              x.path.length === 0 &&
              (x.code === "invalid_type" || x.code === "invalid_union")
            ).length * 1000 +
          b.length;
        const best = [...branches].sort((a, b) => score(a) - score(b))[0]!;
        if (score(best) >= 1000) {
          const expected = branches
            .flatMap((b) =>
              b.filter((x) => x.path.length === 0 && x.code === "invalid_type")
            )
            .map((x) =>
              EXPECTED[(x as { expected: string }).expected] ??
                (x as { expected: string }).expected
            );
          push(
            "invalid_type",
            path,
            `Cannot accept ${label(path)}: expected ${
              [...new Set(expected)].join(" or ")
            }, got ${describe(value)}`,
          );
          return;
        }
        for (const sub of best) visit(sub, path);
        return;
      }
      case "too_small":
      case "too_big": {
        const small = issue.code === "too_small";
        const bound = small
          ? (issue as { minimum: number | bigint }).minimum
          : (issue as { maximum: number | bigint }).maximum;
        const inclusive = issue.inclusive !== false;
        const what = issue.origin === "array"
          ? `${small ? "at least" : "at most"} ${bound} item${
            Number(bound) === 1 ? "" : "s"
          }`
          : issue.origin === "string"
          ? `${small ? "at least" : "at most"} ${bound} character${
            Number(bound) === 1 ? "" : "s"
          }`
          : `${
            small
              ? (inclusive ? "at least" : "greater than")
              : (inclusive ? "at most" : "less than")
          } ${bound}`;
        push(
          issue.code,
          path,
          `Cannot accept ${describe(value)} for ${
            label(path)
          }: it must be ${what}`,
        );
        return;
      }
      case "invalid_format": {
        const custom = issue.message.startsWith("Invalid")
          ? `it does not match ${issue.format}`
          : issue.message;
        push(
          "invalid_format",
          path,
          `Cannot accept ${describe(value)} for ${label(path)}: ${custom}`,
        );
        return;
      }
      case "invalid_key": {
        const inner = issue.issues[0];
        const reason = inner && !inner.message.startsWith("Invalid")
          ? inner.message
          : "it is not a valid key";
        push(
          "invalid_format",
          path,
          `Cannot use "${String(path.at(-1))}" as a key of ${
            parentLabel(path.slice(0, -1))
          }: ${reason}`,
          undefined,
          true,
        );
        return;
      }
      case "invalid_element":
        for (const sub of issue.issues) visit(sub, path);
        return;
      default:
        push(
          // A refinement marks a budget with params.budget (see SPEC_BUDGETS).
          (issue as { params?: { budget?: boolean } }).params?.budget
            ? "over_budget"
            : "invalid_value",
          path,
          `Cannot accept ${
            typeof value === "string" || typeof value === "number"
              ? `${JSON.stringify(value)} for `
              : ""
          }${label(path)}: ${issue.message.replace(/\.$/, "")}`,
        );
    }
  };
  for (const issue of issues) visit(issue, []);
  return out;
}
