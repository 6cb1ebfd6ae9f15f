import { Liquid } from "liquidjs";
import { normalize } from "node:path";
import { rubricHash } from "./build_graph.ts";
import { checkShape } from "./check_shape.ts";
import { type Diagnostic, formatPath } from "./diagnostic.ts";
import type { GraphRubric } from "./graph.ts";
import type { EnvLookup } from "./interpolate.ts";
import { firstPhases } from "./_first_phases.ts";
import { loadSpec, type ReadFile } from "./load_spec.ts";
import { commandCheckProblems } from "./rules/command_checks.ts";
import { RubricSchema } from "./schema.ts";
import type { SourceText } from "./source_text.ts";
import { nodeAt, type SpecNode, toValue } from "./source_tree.ts";

// A rubric file read on its own (`deno task rescore <run> --rubric rubrics/math.v2.yaml`), through the
// compiler's phases for the rubric part of a spec: load with includes, interpolate, shape, then the
// rubric's own semantic checks. The hash is the compiler's, so an unchanged file maps to the same layer.

/** Thrown by `loadRubricFile` with every problem as a diagnostic; render them with `renderDiagnostics`. */
export class RubricFileError extends Error {
  readonly file: string;
  readonly diagnostics: readonly Diagnostic[];
  /** The files read, for rendering snippets. */
  readonly sources: ReadonlyMap<string, SourceText>;
  constructor(
    file: string,
    diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, SourceText>,
  ) {
    const first = diagnostics[0];
    const where = first
      ? `${first.file}:${first.position?.line ?? 0}:${
        first.position?.column ?? 0
      }`
      : file;
    const more = diagnostics.length > 1
      ? ` (and ${diagnostics.length - 1} more)`
      : "";
    super(
      first
        ? `Cannot load rubric "${file}": ${where} at ${
          formatPath(first.path)
        }: ${first.message}${more}`
        : `Cannot load rubric "${file}"`,
    );
    this.name = "RubricFileError";
    this.file = file;
    this.diagnostics = diagnostics;
    this.sources = sources;
  }
}

/** Options of `loadRubricFile`. */
export interface LoadRubricFileOptions {
  /**
   * Looks up `${env.NAME}` in the rubric, as the compiler does.
   * @default Deno.env.get
   */
  readonly env?: EnvLookup;
  /** Reads a file; default the compiler's reader (UTF-8 text files of at most 1 MiB). */
  readonly readFile?: ReadFile;
}

function semanticProblems(
  rubric: ReturnType<typeof RubricSchema.parse>,
  root: SpecNode,
): Diagnostic[] {
  const at = (path: (string | number)[]) => {
    const loc = nodeAt(root, path).node.loc;
    return { file: loc.file, ...(loc.start ? { position: loc.start } : {}) };
  };
  const out: Diagnostic[] = [];
  const { min, max } = rubric.scale;
  if (!(min < max)) {
    out.push({
      code: "score_out_of_scale",
      severity: "error",
      message:
        `Cannot use scale ${min}..${max} of rubric "${rubric.name}": min must be below max`,
      ...at(["scale"]),
      path: ["scale"],
      hint: "the usual scale is { min: 0, max: 10 }",
    });
  }
  if (rubric.template === undefined && rubric.default_score === undefined) {
    out.push({
      code: "missing_key",
      severity: "error",
      message:
        `Cannot score with rubric "${rubric.name}": it has neither a template (an LLM judge) nor a default_score (a deterministic coach)`,
      ...at([]),
      path: [],
      hint:
        "add template: | ... for a judge, or default_score: 10 to score by checks and caps alone",
    });
  }
  out.push(...templateProblems(rubric.template, root));
  // Also resolves each command check's language from its script's file name.
  for (const r of commandCheckProblems(rubric, [], root)) {
    const path = [...r.path];
    const loc = nodeAt(root, path);
    const place = r.onKey && loc.exact && loc.keyLoc
      ? loc.keyLoc
      : loc.node.loc;
    out.push({
      code: r.code,
      severity: r.severity ?? "error",
      message: r.message,
      file: place.file,
      ...(place.start ? { position: place.start } : {}),
      path,
      ...(r.hint ? { hint: r.hint } : {}),
    });
  }
  return out;
}

// The roots a rubric template may read (dsl/template_context.ts rubricContext). Which keys exist below
// them depends on the roles the rubric scores, which only the spec knows: `check` tests those.
const RUBRIC_ROOTS = [
  "pipeline",
  "task",
  "role",
  "upstream",
  "handoffs",
  "action",
  "previous_actions",
  "files",
  "upstream_files",
  "upstream_violations",
  "facts",
  "scale",
  "round",
  "max_rounds",
  "outcome",
];
const liquid = new Liquid();

/** Liquid syntax, file-reading tags and unknown root variables of a rubric file's template. */
function templateProblems(
  template: string | undefined,
  root: SpecNode,
): Diagnostic[] {
  if (template === undefined) return [];
  const node = nodeAt(root, ["template"]).node;
  const at = (row: number, column: number) => {
    const pos = node.kind === "scalar"
      ? node.origin?.map(row, column)
      : undefined;
    return pos
      ? {
        file: node.kind === "scalar" && node.origin
          ? node.origin.file
          : node.loc.file,
        position: pos,
      }
      : {
        file: node.loc.file,
        ...(node.loc.start ? { position: node.loc.start } : {}),
      };
  };
  const tag = /\{%-?\s*(include|render|layout)\b/.exec(template);
  if (tag) {
    const before = template.slice(0, tag.index);
    return [{
      code: "template_syntax",
      severity: "error",
      message: `Cannot parse the rubric template: the tag "${
        tag[1]
      }" reads another file, which templates may not do`,
      ...at(before.split("\n").length, tag.index - before.lastIndexOf("\n")),
      path: ["template"],
    }];
  }
  let parsed;
  try {
    parsed = liquid.parse(template);
  } catch (e) {
    const err = e as {
      message?: string;
      token?: { getPosition?: () => [number, number] };
    };
    const [row, column] = err.token?.getPosition?.() ?? [1, 1];
    return [{
      code: "template_syntax",
      severity: "error",
      message: `Cannot parse the rubric template: ${
        String(err.message ?? e).replace(/, line:\d+, col:\d+$/, "")
      }`,
      ...at(row, column),
      path: ["template"],
    }];
  }
  const out: Diagnostic[] = [];
  for (
    const [name, uses] of Object.entries(
      liquid.analyzeSync(parsed, { partials: false }).globals,
    )
  ) {
    if (RUBRIC_ROOTS.includes(name)) continue;
    const first = uses[0]!;
    const close = RUBRIC_ROOTS.find((r) => r.startsWith(name.slice(0, 3)));
    out.push({
      code: "unknown_template_variable",
      severity: "error",
      message:
        `Cannot resolve template variable "${name}" in the rubric template: rubrics read ${
          RUBRIC_ROOTS.join(", ")
        }`,
      ...at(first.location.row, first.location.col),
      path: ["template"],
      ...(close ? { hint: `did you mean "${close}"?` } : {}),
    });
  }
  return out;
}

/**
 * Reads a rubric YAML (or JSON) file on its own, as the compiler reads one named by `coach.rubric:
 * file://...`: `file://` includes resolved, `${env.X}` interpolated, the shape checked with `RubricSchema`,
 * then its scale and its judge (a template or a `default_score`). Returns the rubric with the compiler's
 * content hash. Throws `RubricFileError` with positioned diagnostics naming the file and key.
 *
 * Checks that need the spec (template variables against each role's context, metric names against the
 * outcome grader) run when the rubric is compiled into a spec, not here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadRubricFile } from "./rubric_file.ts";
 * const rubric = loadRubricFile("pipelines/rubrics/math.yaml");
 * assert.equal(rubric.name, "math_process");
 * assert.match(rubric.hash, /^[0-9a-f]{12}$/);
 * ```
 */
export function loadRubricFile(
  path: string,
  options: LoadRubricFileOptions = {},
): GraphRubric {
  const file = normalize(path);
  const loaded = loadSpec(
    file,
    options.readFile ? { readFile: options.readFile } : {},
  );
  const fail = (diagnostics: readonly Diagnostic[]): never => {
    throw new RubricFileError(
      file,
      diagnostics.filter((d) => d.severity === "error"),
      loaded.sources,
    );
  };
  const first = firstPhases(loaded, options.env);
  if ("diagnostics" in first) return fail(first.diagnostics);
  const root = first.root;
  const data = toValue(root);
  const parsed = RubricSchema.safeParse(data);
  if (!parsed.success) {
    return fail(checkShape(RubricSchema, root, data, parsed.error.issues));
  }
  const problems = semanticProblems(parsed.data, root);
  if (problems.length > 0) return fail(problems);
  return { ...parsed.data, hash: rubricHash(parsed.data), file };
}
